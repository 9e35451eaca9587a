package dev.ferry.bench;

import dev.ferry.agent.api.MigrateRequest;
import dev.ferry.guest.GuestConsole;
import dev.ferry.lab.Lab;
import dev.ferry.lab.TestGuest;
import dev.ferry.migration.MigrationReport;
import dev.ferry.migration.MigrationStatus;
import dev.ferry.migration.Result;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The VM every benchmark migrates: the test guest (kernel and busybox initramfs) with a shared
 * qcow2 data disk it writes records to, a user-mode NIC and a swtpm TPM, plus whatever devices a
 * benchmark adds.
 */
final class BenchGuest {
    private static final Duration RESUME_LIMIT = Duration.ofSeconds(30);
    private static final Duration MIGRATION_LIMIT = Duration.ofMinutes(3);

    private BenchGuest() {}

    /** The spec, with a fresh 64 MiB data disk at {@code disk}: both agents see the same image, so it is shared storage. */
    static String spec(String name, Path disk, List<String> extraDevices) throws Exception {
        TestGuest guest = TestGuest.named(name).disk(TestGuest.createDisk(disk));
        extraDevices.forEach(guest::device);
        return guest.yaml();
    }

    /** Waits until the guest booted: its PCRs read and a few records written. */
    static GuestConsole awaitBooted(Path serialLog) throws IOException, InterruptedException {
        return TestGuest.awaitBooted(serialLog, true, 3);
    }

    /** Waits until the guest ticks on after a migration, so the next one starts from a running guest. */
    static void awaitTicking(Path serialLog) throws IOException, InterruptedException {
        GuestConsole c = GuestConsole.await(serialLog, g -> g.lastTick() >= g.firstTick() + 3, RESUME_LIMIT);
        if (c.lastTick() < c.firstTick() + 3) {
            throw new IllegalStateException("the guest did not tick on within " + RESUME_LIMIT.toSeconds()
                    + " s after the migration; see " + serialLog);
        }
    }

    /** Migrates {@code vm} live from {@code from} to the lab's other host with Ferry's defaults; fails unless it completed. */
    static MigrationReport migrate(Lab lab, String vm, String from) throws IOException, InterruptedException {
        String to = lab.other(from);
        String id = lab.api(from).startMigration(new MigrateRequest(vm, to, false, null, null, null, null, null));
        MigrationStatus done = lab.api(from).awaitMigration(id, MIGRATION_LIMIT).as(MigrationStatus.class);
        MigrationReport report = done.report();
        if (report == null || report.result() != Result.COMPLETED) {
            throw new IllegalStateException("migration " + id + " of vm '" + vm + "' from " + from + " to " + to
                    + " did not complete: " + (report == null ? "no report, phase " + done.phase()
                    : report.result().wireName() + (report.failure() == null ? "" : ": " + report.failure().describe())));
        }
        return report;
    }
}
