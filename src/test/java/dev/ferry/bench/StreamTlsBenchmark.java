package dev.ferry.bench;

import dev.ferry.lab.Lab;
import dev.ferry.lab.TestGuest;
import dev.ferry.migration.MigrationReport;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * What TLS on QEMU's streams costs: RAM-copy and disk-copy throughput and downtime with and without
 * it. Two labs run side by side, one with certificates (mutual TLS on the API, the migration stream
 * and the NBD disk copy) and one plain, each with the same guest (the test guest, its data disk a
 * 64 MiB raw image of random bytes on the source's local storage, so the disk copy moves real data).
 * Rounds alternate which side migrates first, and both guests run throughout, so each side's
 * migrations see the same load.
 *
 * <p>RAM-copy throughput is QEMU's transferred bytes over the ram-copy phase; disk-copy throughput is
 * the disk's size over the pre-suspend phase (the mirror until it is in step with the guest).
 *
 * <p>Run it with {@code scripts/bench StreamTlsBenchmark} ({@code -Dbench.runs=N}, default 3, migrations
 * per side). Prints numbers, asserts nothing.
 */
public final class StreamTlsBenchmark {
    private static final String VM = "tlsbench";
    private static final long DISK_BYTES = 64L * 1024 * 1024;

    private StreamTlsBenchmark() {}

    private record Side(String name, Lab lab, List<FerryRun> runs) {}

    public static void main(String[] args) throws Exception {
        Samples.quietLogs();
        int runs = Samples.intProperty("bench.runs", 3);
        long started = System.nanoTime();
        List<FerryRun> tlsRuns = new ArrayList<>();
        List<FerryRun> plainRuns = new ArrayList<>();
        try (BenchRoot root = BenchRoot.create("ferry-bench-tls");
             Lab tlsLab = Lab.in(root.resolve("tls")).start();
             Lab plainLab = Lab.in(root.resolve("plain")).plain().start()) {
            Side tls = new Side("tls", tlsLab, tlsRuns);
            Side plain = new Side("plain", plainLab, plainRuns);
            String[] at = {Lab.A, Lab.A};
            for (Side side : List.of(tls, plain)) {
                Path disk = randomDisk(side.lab().root().resolve("data.raw"));
                String spec = TestGuest.named(VM).disk(disk).diskFormat("raw").localDisk().yaml();
                System.out.println(side.name() + ": booting vm '" + VM + "' on " + Lab.A);
                BenchGuest.awaitBooted(side.lab().defineAndStart(Lab.A, VM, spec));
            }
            for (int i = 1; i <= runs; i++) {
                List<Side> order = i % 2 == 1 ? List.of(tls, plain) : List.of(plain, tls);
                for (Side side : order) {
                    int s = side == tls ? 0 : 1;
                    forgetOldCopy(side.lab(), side.lab().other(at[s]));
                    MigrationReport report = BenchGuest.migrate(side.lab(), VM, at[s]);
                    FerryRun run = new FerryRun(side.name(), i, at[s], side.lab().other(at[s]), report);
                    at[s] = run.to();
                    side.runs().add(run);
                    System.out.printf("  %-5s run %d %s -> %s: RAM copy %s, disk copy %s, downtime %s, QEMU downtime %s%n",
                            side.name(), i, run.from(), run.to(), mibps(ramRate(run)), mibps(diskRate(run)),
                            Samples.ms(run.downtimeMs()), run.qemuDowntimeText());
                    BenchGuest.awaitTicking(side.lab().api(at[s]).serialLog(VM));
                }
            }
            tlsLab.api(at[0]).post("/v1/vms/" + VM + "/destroy", null);
            plainLab.api(at[1]).post("/v1/vms/" + VM + "/destroy", null);
        }
        print(tlsRuns, plainRuns);
        System.out.printf("wall time: %d s%n", (System.nanoTime() - started) / 1_000_000_000);
    }

    /**
     * Deletes the copy of the guest's disk that {@code host} kept when the guest last left it: the source's
     * image stays where it was after a migration, and a destination refuses to overwrite a copy it finds.
     */
    private static void forgetOldCopy(Lab lab, String host) throws Exception {
        Path copies = lab.agent(host).dataDir().resolve("images").resolve(VM);
        if (Files.isDirectory(copies)) {
            try (var files = Files.list(copies)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
        }
    }

    /** RAM copy in KiB/s (kept integral for the medians): QEMU's bytes sent over the ram-copy phase. */
    private static Long ramRate(FerryRun run) {
        Long ms = run.phaseMs("ram-copy");
        return ms == null || ms == 0 || run.report().ram() == null ? null
                : run.report().ram().transferredBytes() * 1000 / 1024 / ms;
    }

    /** Disk copy in KiB/s: the disk's size over the pre-suspend phase, where the mirror catches up. */
    private static Long diskRate(FerryRun run) {
        Long ms = run.phaseMs("pre-suspend");
        return ms == null || ms == 0 ? null : DISK_BYTES * 1000 / 1024 / ms;
    }

    private static void print(List<FerryRun> tls, List<FerryRun> plain) {
        System.out.println();
        System.out.printf("TLS (%d migrations) against plain (%d), median [min .. max]:%n", tls.size(), plain.size());
        line("RAM copy throughput", tls, plain, StreamTlsBenchmark::ramRate, StreamTlsBenchmark::mibps);
        line("disk copy throughput", tls, plain, StreamTlsBenchmark::diskRate, StreamTlsBenchmark::mibps);
        line("downtime", tls, plain, FerryRun::downtimeMs, Samples::ms);
        line("QEMU downtime", tls, plain, FerryRun::qemuDowntimeMs, Samples::ms);
        line("total", tls, plain, r -> r.totalMs(), Samples::ms);
    }

    private static void line(String what, List<FerryRun> tls, List<FerryRun> plain, Function<FerryRun, Long> figure,
                             Function<Long, String> format) {
        Long t = Samples.median(tls.stream().map(figure).toList());
        Long p = Samples.median(plain.stream().map(figure).toList());
        System.out.printf("  %-21s tls %s, plain %s; tls/plain %s%n", what + ":", spread(tls, figure, format),
                spread(plain, figure, format), Samples.ratio(t, p));
    }

    private static String spread(List<FerryRun> runs, Function<FerryRun, Long> figure, Function<Long, String> format) {
        List<Long> values = runs.stream().map(figure).filter(v -> v != null).sorted().toList();
        if (values.isEmpty()) {
            return "n/a";
        }
        return format.apply(Samples.median(values)) + " [" + format.apply(values.get(0)) + " .. "
                + format.apply(values.get(values.size() - 1)) + ", n=" + values.size() + "]";
    }

    private static String mibps(Long kibPerSecond) {
        return kibPerSecond == null ? "n/a" : String.format("%.1f MiB/s", kibPerSecond / 1024.0);
    }

    private static Path randomDisk(Path path) throws Exception {
        Random random = new Random(42);
        byte[] block = new byte[1024 * 1024];
        try (OutputStream out = Files.newOutputStream(path)) {
            for (long written = 0; written < DISK_BYTES; written += block.length) {
                random.nextBytes(block);
                out.write(block);
            }
        }
        return path;
    }
}
