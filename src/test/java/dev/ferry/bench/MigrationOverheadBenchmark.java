package dev.ferry.bench;

import dev.ferry.agent.config.AgentConfig;
import dev.ferry.lab.Lab;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.vm.QemuHost;
import dev.ferry.vm.VmHandle;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmSpecParser;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * What Ferry costs over QEMU's own live migration. The same VM (the test guest with a shared data
 * disk, a user-mode NIC and a swtpm TPM) migrates between two in-process agents, A to B, back, and
 * so on; then, booted again, it migrates the same way with no Ferry at all: a source QEMU and an
 * incoming QEMU started through {@link QemuHost}, driven over QMP by {@link BareMigration}. Both
 * sides run one after the other, never at once, so neither guest takes CPU from the other's runs.
 *
 * <p>Ferry's total covers its whole protocol (checks, starting the destination, device steps,
 * switchover, quitting the source); the bare total runs from {@code migrate} to the destination
 * running, so the printout also compares like with like: Ferry's RAM copy to resume against the
 * bare total, and Ferry's total against the bare total plus starting the destination.
 *
 * <p>Run it (from the project directory; prints numbers, asserts nothing):
 * <pre>
 * mvn -B -q -o -DskipTests package &amp;&amp; mvn -B -q -o test-compile \
 *   &amp;&amp; mvn -B -q -o org.apache.maven.plugins:maven-dependency-plugin:3.11.0:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp target/classes:target/test-classes:$(cat target/cp.txt) dev.ferry.bench.MigrationOverheadBenchmark
 * </pre>
 * or {@code scripts/bench MigrationOverheadBenchmark}. {@code -Dbench.runs=N} (default 3) sets the
 * migrations per side; {@code -Dbench.verbose=true} shows the agents' log.
 */
public final class MigrationOverheadBenchmark {
    private static final String VM = "overhead";
    private static final List<String> RAM_COPY_TO_RESUME = List.of("ram-copy", "post-suspend", "sync", "switchover");
    private static final List<String> PHASES = List.of("check", "prepare", "pre-suspend", "ram-copy", "post-suspend", "sync",
            "switchover", "cleanup");

    private MigrationOverheadBenchmark() {}

    public static void main(String[] args) throws Exception {
        Samples.quietLogs();
        int runs = Samples.intProperty("bench.runs", 3);
        ProcessRunner runner = new ProcessRunner();
        List<FerryRun> ferry = new ArrayList<>();
        List<BareMigration.Outcome> bare = new ArrayList<>();
        long started = System.nanoTime();
        try (BenchRoot root = BenchRoot.create("ferry-bench-overhead")) {
            AgentConfig binaries;
            try (Lab agents = Lab.in(root.path()).start()) {
                binaries = agents.agent(Lab.A).config();
                String spec = BenchGuest.spec(VM, root.resolve("ferry-data.qcow2"), List.of());
                System.out.println("ferry: booting vm '" + VM + "' on " + Lab.A);
                BenchGuest.awaitBooted(agents.defineAndStart(Lab.A, VM, spec));
                String at = Lab.A;
                for (int i = 1; i <= runs; i++) {
                    FerryRun run = new FerryRun("ferry", i, at, agents.other(at), BenchGuest.migrate(agents, VM, at));
                    at = run.to();
                    ferry.add(run);
                    System.out.printf("  ferry run %d %s -> %s: total %s, downtime %s, QEMU downtime %s, RAM copy to resume %s%n",
                            i, run.from(), run.to(), Samples.ms(run.totalMs()), Samples.ms(run.downtimeMs()),
                            run.qemuDowntimeText(), Samples.ms(run.phasesMs(RAM_COPY_TO_RESUME)));
                    BenchGuest.awaitTicking(agents.api(at).serialLog(VM));
                }
                agents.api(at).post("/v1/vms/" + VM + "/destroy", null);
            }
            bareRuns(root, binaries, runner, runs, bare);
            List<String> left = root.leftovers();
            System.out.println("cleanup: " + (left.isEmpty() ? "no process left behind" : left.size() + " process(es) left behind: " + left));
        }
        print(ferry, bare);
        System.out.printf("wall time: %d s%n", (System.nanoTime() - started) / 1_000_000_000);
    }

    private static void bareRuns(BenchRoot root, AgentConfig binaries, ProcessRunner runner, int runs,
                                 List<BareMigration.Outcome> out) throws Exception {
        QemuHost[] hosts = {
            new QemuHost(root.resolve("bare-a").resolve("run"), binaries.qemu(), binaries.swtpm(), runner),
            new QemuHost(root.resolve("bare-b").resolve("run"), binaries.qemu(), binaries.swtpm(), runner),
        };
        String yaml = BenchGuest.spec(VM, root.resolve("bare-data.qcow2"), List.of());
        VmSpec spec = VmSpecParser.parse(yaml, root.path());
        System.out.println("bare QEMU: booting vm '" + VM + "' on a");
        VmHandle vm = hosts[0].start(spec);
        try {
            BenchGuest.awaitBooted(vm.serialLog());
            for (int i = 1; i <= runs; i++) {
                int from = (i - 1) % 2;
                BareMigration.Outcome o = BareMigration.run(vm, hosts[1 - from], spec);
                vm = o.destination();
                out.add(o);
                System.out.printf("  bare run %d %s -> %s: total %s, QEMU downtime %s, guest paused (STOP to RESUME) %s,"
                        + " destination start %s%n", i, from == 0 ? "a" : "b", from == 0 ? "b" : "a", Samples.ms(o.totalMs()),
                        Samples.ms(o.qemuDowntimeMs()), Samples.ms(o.guestPauseMs()), Samples.ms(o.destinationStartMs()));
                BenchGuest.awaitTicking(vm.serialLog());
            }
        } finally {
            vm.destroy();
        }
    }

    private static void print(List<FerryRun> ferry, List<BareMigration.Outcome> bare) {
        Long fTotal = med(ferry, FerryRun::totalMs);
        Long fDown = med(ferry, FerryRun::downtimeMs);
        Long fQemuDown = med(ferry, FerryRun::qemuDowntimeMs);
        Long fCopyToResume = med(ferry, r -> r.phasesMs(RAM_COPY_TO_RESUME));
        Long bTotal = med(bare, BareMigration.Outcome::totalMs);
        Long bPause = med(bare, BareMigration.Outcome::guestPauseMs);
        Long bQemuDown = med(bare, BareMigration.Outcome::qemuDowntimeMs);
        Long bStart = med(bare, BareMigration.Outcome::destinationStartMs);
        Long bStartAndTotal = med(bare, o -> o.destinationStartMs() + o.totalMs());

        System.out.println();
        System.out.printf("medians over %d Ferry and %d bare migrations:%n", ferry.size(), bare.size());
        System.out.printf("  ferry: total %s, downtime (Ferry's pause to resume) %s, QEMU downtime %s, RAM copy to resume %s%n",
                Samples.ms(fTotal), Samples.ms(fDown), Samples.ms(fQemuDown), Samples.ms(fCopyToResume));
        StringBuilder phases = new StringBuilder("  ferry phases:");
        for (String p : PHASES) {
            phases.append(' ').append(p).append(' ').append(Samples.ms(med(ferry, r -> r.phaseMs(p)))).append(',');
        }
        System.out.println(phases.substring(0, phases.length() - 1));
        System.out.printf("  bare:  total (migrate to destination running) %s, guest paused (STOP to RESUME) %s, QEMU downtime %s,"
                + " destination start %s%n", Samples.ms(bTotal), Samples.ms(bPause), Samples.ms(bQemuDown), Samples.ms(bStart));
        System.out.println();
        System.out.println("Ferry / bare:");
        System.out.printf("  total time:    %s  (Ferry's total %s / bare migrate-to-running %s)%n",
                Samples.ratio(fTotal, bTotal), Samples.ms(fTotal), Samples.ms(bTotal));
        System.out.printf("                 %s  like for like: Ferry's RAM copy to resume %s / bare migrate-to-running %s%n",
                Samples.ratio(fCopyToResume, bTotal), Samples.ms(fCopyToResume), Samples.ms(bTotal));
        System.out.printf("                 %s  like for like: Ferry's total %s / bare destination start + migrate-to-running %s%n",
                Samples.ratio(fTotal, bStartAndTotal), Samples.ms(fTotal), Samples.ms(bStartAndTotal));
        System.out.printf("  downtime:      %s  (Ferry's downtime %s / bare guest pause %s)%n",
                Samples.ratio(fDown, bPause), Samples.ms(fDown), Samples.ms(bPause));
        System.out.printf("  QEMU downtime: %s  (%s / %s)%n", Samples.ratio(fQemuDown, bQemuDown), Samples.ms(fQemuDown),
                Samples.ms(bQemuDown));
        Long fEstimate = med(ferry, r -> r.qemuDowntimeMs() == null || r.phaseMs("switchover") == null ? null
                : r.qemuDowntimeMs() + r.phaseMs("switchover"));
        System.out.printf("  note: Ferry's downtime starts when its poll of query-migrate sees pre-switchover, after the"
                + " guest stopped; QEMU's downtime (which starts at the stop) plus the switchover phase is %s, an estimate"
                + " of the guest's real pause under Ferry: %s of the bare guest pause%n", Samples.ms(fEstimate),
                Samples.ratio(fEstimate, bPause));
    }

    private static <T> Long med(List<T> runs, Function<T, Long> figure) {
        return Samples.median(runs.stream().map(figure).toList());
    }
}
