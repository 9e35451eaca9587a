package dev.ferry.migration;

/**
 * Where a migration writes each phase and each device step before it acts, so that a restarted
 * agent knows where every migration stood. Implementations must make a write durable before
 * returning.
 */
public interface Journal {

    void phase(String migrationId, Phase phase, String detail);

    /** {@code step} is a device step's tool name or {@code recover}; {@code event} is start, ok, failed, refused. */
    void deviceStep(String migrationId, String deviceId, String step, String event, String detail);

    /** A journal that keeps nothing (for dry runs and tests that do not look at it). */
    Journal NONE = new Journal() {
        @Override
        public void phase(String migrationId, Phase phase, String detail) {}

        @Override
        public void deviceStep(String migrationId, String deviceId, String step, String event, String detail) {}
    };
}
