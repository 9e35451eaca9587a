package dev.ferry.migration;

import dev.ferry.proc.Processes;
import dev.ferry.qmp.EventWaiter;
import dev.ferry.qmp.QmpEvent;
import dev.ferry.qmp.QmpException;
import dev.ferry.qmp.QmpTimeoutException;
import dev.ferry.vm.QemuLog;
import dev.ferry.vm.RunDir;
import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VtpmState;
import java.time.Duration;
import java.util.Optional;

/**
 * The destination's side of QEMU's stream: waiting until the incoming QEMU has received
 * everything, and telling a QEMU that stopped answering (stopped or hung, named by pid) from one
 * that is gone.
 */
final class IncomingStream {
    /** How long the incoming QEMU may take to answer before it counts as stalled. */
    static final Duration ANSWER_TIMEOUT = MigrationParams.DEFAULT_STALL_TIMEOUT;

    private IncomingStream() {}

    private static String qemuSaid(VmHandle handle) {
        return handle.runDir() == null ? "" : QemuLog.lastWords(new RunDir(handle.runDir()).qemuLog());
    }

    /**
     * Refuses a VM whose devices' state did not reach this host's disk once the stream is in: today
     * the vTPM's, which swtpm may hold only in memory (see {@link VtpmState}).
     */
    static void checkStateOnDisk(VmSpec spec, VmHandle handle) throws Destination.NotTakenException {
        if (handle.runDir() == null) {
            return;
        }
        Optional<String> lost = VtpmState.notOnDisk(spec, new RunDir(handle.runDir()));
        if (lost.isPresent()) {
            throw new Destination.NotTakenException(lost.get());
        }
    }

    /** Waits for QEMU's MIGRATION event saying the stream is in (or failed), asking QEMU once per event. */
    static void awaitReceived(VmHandle handle, Duration limit) throws MigrationException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (true) {
            String status;
            // Listen before asking: an event that arrives between the two wakes the wait instead of being missed.
            try (EventWaiter next = handle.qmp().expectEvent(QmpEvent.MIGRATION)) {
                try {
                    status = handle.qmp().execute("query-migrate", null, ANSWER_TIMEOUT).path("status").asText("none");
                } catch (QmpTimeoutException e) {
                    throw new Destination.NotTakenException("the incoming QEMU (pid " + handle.pid() + ") did not answer"
                            + " within " + ANSWER_TIMEOUT.toSeconds() + " s: " + (Processes.isStopped(handle.pid())
                            ? "it is stopped (SIGSTOP)" : "it is hung"));
                } catch (QmpException e) {
                    throw new Destination.NotTakenException("the incoming QEMU (pid " + handle.pid() + ") is gone: "
                            + e.getMessage() + qemuSaid(handle));
                }
                if (status.equals("completed")) {
                    return;
                }
                if (status.equals("failed") || status.equals("cancelled")) {
                    throw new Destination.NotTakenException("the incoming migration " + status + qemuSaid(handle));
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new MigrationException("the incoming migration did not complete within "
                            + limit.toSeconds() + " s");
                }
                try {
                    next.await(Duration.ofNanos(Math.min(left, Duration.ofSeconds(1).toNanos())));
                } catch (QmpException e) {
                    // No event within the slice, or QEMU went away: the next query tells which.
                }
            }
        }
    }
}
