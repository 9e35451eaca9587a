package dev.ferry.conformance;

import dev.ferry.migration.MigrationException;
import dev.ferry.migration.MigrationParams;
import dev.ferry.migration.RamProgress;
import dev.ferry.migration.SourceQemu;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The source QEMU of the check: no VM runs, so the stream "arrives" at once; it fails after the
 * devices' sync when a scenario says so, the last point from which a migration rolls back.
 */
final class StagedSource implements SourceQemu {
    private final Clock clock;
    private final boolean failAfterSync;

    StagedSource(Clock clock, boolean failAfterSync) {
        this.clock = clock;
        this.failAfterSync = failAfterSync;
    }

    @Override
    public boolean isRunning() {
        return true;
    }

    @Override
    public void configure(MigrationParams params) {}

    @Override
    public void startMigration(String uri) {}

    @Override
    public Instant awaitPreSwitchover(Duration limit, Consumer<RamProgress> progress, BooleanSupplier cancelled) {
        return clock.instant();
    }

    @Override
    public void continueSwitchover() {}

    @Override
    public Completion awaitCompleted(Duration limit) throws MigrationException {
        if (failAfterSync) {
            throw new MigrationException("QEMU's migration failed after sync, as the check staged it");
        }
        return new Completion(null, 0L);
    }

    @Override
    public void cancelMigration() {}

    @Override
    public void resume() {}

    @Override
    public void release() {}
}
