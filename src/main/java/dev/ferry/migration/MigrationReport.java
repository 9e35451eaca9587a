package dev.ferry.migration;

import java.time.Instant;
import java.util.List;

/**
 * What happened in one migration or save, for people ({@code ferry migration show}) and scripts
 * ({@code --json}). Times are milliseconds; {@code downtimeMs} is Ferry's own measure from the
 * guest's pause on the source to its resume on the destination, {@code qemuDowntimeMs} QEMU's.
 * {@code ownerUnknown}: the destination never said whether it took the VM, so the source keeps it
 * paused and recorded as migrating. {@code guestPaused}: the guest was paused before the migration
 * and was left paused wherever it ended.
 */
public record MigrationReport(
        String id,
        String vm,
        String source,
        String destination,
        String mode,
        Result result,
        Instant startedAt,
        long totalMs,
        Long downtimeMs,
        Long qemuDowntimeMs,
        List<PhaseTiming> phases,
        List<StepTiming> deviceSteps,
        List<Blocker> blockers,
        Failure failure,
        List<Failure> recoveryFailures,
        RamProgress ram,
        List<String> notes,
        boolean ownerUnknown,
        boolean guestPaused) {

    /** One phase and how long it took. */
    public record PhaseTiming(String phase, Instant startedAt, long durationMs) {}

    /** One device step: {@code outcome} is ok, refused, failed or timed-out. */
    public record StepTiming(String device, String type, String step, Instant startedAt, long durationMs,
                             String outcome, String message) {}

    /** Why a migration cannot start: {@code side} is source or destination; {@code device} may be null. */
    public record Blocker(String side, String device, String reason) {
        public String describe() {
            return side + ": " + (device == null ? "" : device + " refuses migration: ") + reason;
        }
    }

    /** What broke: the phase, the device and step when a device did, and its own words. */
    public record Failure(String phase, String device, String step, String message) {
        public String describe() {
            StringBuilder s = new StringBuilder(phase);
            if (device != null) {
                s.append(": ").append(device);
                if (step != null) {
                    s.append(" failed at ").append(step);
                }
            }
            return s.append(": ").append(message).toString();
        }
    }
}
