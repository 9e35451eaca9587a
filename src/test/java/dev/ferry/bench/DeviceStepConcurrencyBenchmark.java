package dev.ferry.bench;

import dev.ferry.lab.Lab;
import dev.ferry.proc.ProcessRunner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.IntStream;

/**
 * Does Ferry run the devices' post-suspend steps concurrently? The test guest gets 8 {@code
 * external} devices ({@code ext0..ext7}, kind {@code bench}) whose tool sleeps 200 ms at
 * post-suspend and returns at once at every other step. The VM migrates live between two
 * in-process agents, A to B and back, in rounds; each round does one trip with the sleeping tool
 * and one with the tool told not to sleep (the baseline), so drift in the machine's load hits both
 * alike. Then the same VM without the external devices makes the same trips, to show what the 8
 * tool calls per step cost by themselves. Run steps in a row would add 8 x 200 = 1,600 ms of
 * downtime; run concurrently, about 200 ms.
 *
 * <p>Run it (from the project directory; prints numbers, asserts nothing):
 * <pre>
 * mvn -B -q -o -DskipTests package &amp;&amp; mvn -B -q -o test-compile \
 *   &amp;&amp; mvn -B -q -o org.apache.maven.plugins:maven-dependency-plugin:3.11.0:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp target/classes:target/test-classes:$(cat target/cp.txt) dev.ferry.bench.DeviceStepConcurrencyBenchmark
 * </pre>
 * or {@code scripts/bench DeviceStepConcurrencyBenchmark}. {@code -Dbench.rounds=N} (default 3)
 * sets the round trips per variant; {@code -Dbench.verbose=true} shows the agents' log.
 */
public final class DeviceStepConcurrencyBenchmark {
    private static final int DEVICES = 8;
    private static final long SLEEP_MS = 200;
    private static final String SLEEP = "8 devices, tool sleeps 200 ms";
    private static final String NO_SLEEP = "8 devices, tool returns at once";
    private static final String NO_DEVICES = "no external devices";

    private DeviceStepConcurrencyBenchmark() {}

    public static void main(String[] args) throws Exception {
        Samples.quietLogs();
        int rounds = Samples.intProperty("bench.rounds", 3);
        ProcessRunner runner = new ProcessRunner();
        List<FerryRun> runs = new ArrayList<>();
        long started = System.nanoTime();
        try (BenchRoot root = BenchRoot.create("ferry-bench-steps")) {
            Path control = root.resolve("tool.mode");
            Path tool = writeTool(root.resolve("bench-tool"), control);
            try (Lab agents = Lab.in(root.path()).tool("bench", tool, Map.of()).start()) {
                List<String> external = IntStream.range(0, DEVICES)
                        .mapToObj(i -> "{type: external, id: ext" + i + ", kind: bench}").toList();
                String withDevices = BenchGuest.spec("steps8", root.resolve("steps8.qcow2"), external);
                trips(agents, root, "steps8", withDevices, rounds, List.of(SLEEP, NO_SLEEP),
                        variant -> writeMode(control, variant.equals(SLEEP) ? "sleep" : "no-sleep"), runs);
                String plain = BenchGuest.spec("plain", root.resolve("plain.qcow2"), List.of());
                trips(agents, root, "plain", plain, rounds, List.of(NO_DEVICES), variant -> { }, runs);
            }
            List<String> left = root.leftovers();
            System.out.println("cleanup: " + (left.isEmpty() ? "no process left behind" : left.size() + " process(es) left behind: " + left));
        }
        print(runs);
        System.out.printf("wall time: %d s%n", (System.nanoTime() - started) / 1_000_000_000);
    }

    /** Boots {@code vm} on A, then for each round migrates it A to B and back once per variant. */
    private static void trips(Lab agents, BenchRoot root, String vm, String spec, int rounds, List<String> variants,
                              Consumer<String> setUp, List<FerryRun> runs) throws Exception {
        System.out.println("booting vm '" + vm + "' on " + Lab.A);
        BenchGuest.awaitBooted(agents.defineAndStart(Lab.A, vm, spec));
        String at = Lab.A;
        for (int round = 1; round <= rounds; round++) {
            for (String variant : variants) {
                setUp.accept(variant);
                for (int leg = 0; leg < 2; leg++) {
                    FerryRun run = new FerryRun(variant, round, at, agents.other(at), BenchGuest.migrate(agents, vm, at));
                    at = run.to();
                    runs.add(run);
                    printRun(run);
                    BenchGuest.awaitTicking(agents.api(at).serialLog(vm));
                }
            }
        }
        agents.api(at).post("/v1/vms/" + vm + "/destroy", null);
    }

    private static void printRun(FerryRun r) {
        List<Long> steps = r.deviceStepMs("external", "post-suspend");
        System.out.printf("  %-32s round %d %s -> %s: downtime %s, QEMU downtime %s, post-suspend %s, sync %s, total %s%s%n",
                r.variant(), r.round(), r.from(), r.to(), Samples.ms(r.downtimeMs()), r.qemuDowntimeText(),
                Samples.ms(r.phaseMs("post-suspend")), Samples.ms(r.phaseMs("sync")), Samples.ms(r.totalMs()),
                steps.isEmpty() ? "" : String.format(" (external devices' post-suspend %d..%d ms)",
                        steps.stream().mapToLong(Long::longValue).min().orElse(0),
                        steps.stream().mapToLong(Long::longValue).max().orElse(0)));
    }

    private static void print(List<FerryRun> runs) {
        System.out.println();
        System.out.println("medians over " + runs.stream().filter(r -> r.variant().equals(SLEEP)).count() + " migrations per variant:");
        System.out.printf("  %-32s %14s %14s %14s %10s %10s%n", "variant", "ferry downtime", "QEMU downtime", "post-suspend", "sync", "total");
        for (String v : List.of(SLEEP, NO_SLEEP, NO_DEVICES)) {
            List<FerryRun> of = runs.stream().filter(r -> r.variant().equals(v)).toList();
            System.out.printf("  %-32s %14s %14s %14s %10s %10s%n", v, Samples.ms(median(of, FerryRun::downtimeMs)),
                    Samples.ms(median(of, FerryRun::qemuDowntimeMs)), Samples.ms(median(of, r -> r.phaseMs("post-suspend"))),
                    Samples.ms(median(of, r -> r.phaseMs("sync"))), Samples.ms(median(of, FerryRun::totalMs)));
        }
        Long sleeping = median(of(runs, SLEEP), FerryRun::downtimeMs);
        Long baseline = median(of(runs, NO_SLEEP), FerryRun::downtimeMs);
        Long bare = median(of(runs, NO_DEVICES), FerryRun::downtimeMs);
        Long postSleeping = median(of(runs, SLEEP), r -> r.phaseMs("post-suspend"));
        Long postBaseline = median(of(runs, NO_SLEEP), r -> r.phaseMs("post-suspend"));
        if (sleeping == null || baseline == null) {
            System.out.println("no downtime was measured; nothing to compare");
            return;
        }
        long added = sleeping - baseline;
        long serial = DEVICES * SLEEP_MS;
        System.out.println();
        System.out.printf("downtime Ferry adds with %d devices sleeping %d ms each at post-suspend: %,d ms over the no-sleep"
                + " baseline (post-suspend phase: %s more)%n", DEVICES, SLEEP_MS, added,
                postSleeping == null || postBaseline == null ? "n/a" : String.format("%,d ms", postSleeping - postBaseline));
        if (bare != null) {
            System.out.printf("the 8 tool calls per step themselves (no sleep) add %,d ms of downtime over the VM without"
                    + " external devices; with the sleeps, %,d ms%n", baseline - bare, sleeping - bare);
        }
        boolean concurrent = Math.abs(added - SLEEP_MS) < Math.abs(added - serial);
        System.out.printf("in words: the %d post-suspend sleeps of %d ms added %,d ms of downtime, close to %s: the"
                + " post-suspend steps ran %s.%n", DEVICES, SLEEP_MS, added,
                concurrent ? String.format("one sleep (%d ms) and far from %d sleeps in a row (%,d ms)", SLEEP_MS, DEVICES, serial)
                        : String.format("%d sleeps in a row (%,d ms), not one sleep (%d ms)", DEVICES, serial, SLEEP_MS),
                concurrent ? "concurrently" : "one after another, NOT concurrently");
    }

    private static List<FerryRun> of(List<FerryRun> runs, String variant) {
        return runs.stream().filter(r -> r.variant().equals(variant)).toList();
    }

    private static Long median(List<FerryRun> runs, Function<FerryRun, Long> figure) {
        return Samples.median(runs.stream().map(figure).toList());
    }

    /** The device tool: Ferry's dialect puts the step second ({@code --step STEP ...}); only post-suspend may sleep. */
    private static Path writeTool(Path tool, Path control) throws IOException {
        Files.writeString(tool, """
                #!/bin/sh
                if [ "$2" = post-suspend ]; then
                  read mode < '%s'
                  if [ "$mode" = sleep ]; then sleep 0.2; fi
                fi
                exit 0
                """.formatted(control));
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
        writeMode(control, "no-sleep");
        return tool;
    }

    private static void writeMode(Path control, String mode) {
        try {
            Files.writeString(control, mode + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the tool's mode to " + control, e);
        }
    }
}
