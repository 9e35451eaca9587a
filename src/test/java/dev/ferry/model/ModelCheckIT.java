package dev.ferry.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Checks {@code model/ferry.pml} with SPIN: the model as the code is holds every property with no
 * error, and each deliberately broken variant of one rule gives a counterexample for the property
 * it breaks (so no property holds vacuously). Writes the table of states and times into
 * {@code docs/model.md}, between its markers.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ModelCheckIT {
    private static final Path BASE = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize();
    private static final String BEGIN = "<!-- model-check:begin -->";
    private static final String END = "<!-- model-check:end -->";

    /** One rule of the model broken on purpose (a {@code -D} macro), and the property that must catch it. */
    enum Variant {
        BROKEN_RESUME_ON_SILENCE(Property.NEVER_TWO_RUNNING,
                "the source resumes its guest when the switchover gets no answer"),
        ABORT_IGNORES_HISTORY(Property.NEVER_TWO_RUNNING,
                "a restarted destination accepts an abort of a migration it took before the restart (the code's rule"
                        + " before the model)"),
        UNCONFIRMED_ABORT(Property.SOURCE_NEVER_RESUMES_AFTER_DESTINATION,
                "after the switchover request the source resumes although the destination refused the abort (the"
                        + " code's rule before the model)"),
        BROKEN_RECOVER_UNSTARTED(Property.DEVICE_RECOVERED_ONLY_IF_STARTED,
                "a restarted source recovers every device, not only those its journal shows started"),
        BROKEN_NO_RESUME_AT_RESTART(Property.EVENTUALLY_ONE_RUNNING_AND_FINAL,
                "a restarted destination leaves a VM it owns paused"),
        BROKEN_OWNERSHIP_IN_MEMORY(Property.EVENTUALLY_ONE_RUNNING_AND_FINAL,
                "the destination answers \"who owns it\" from memory only, not from its history"),
        UNFENCED_ABORT(Property.EVENTUALLY_ONE_RUNNING_AND_FINAL,
                "an abort of a migration the destination never heard of is forgotten, so a late prepare starts an"
                        + " incoming VM nobody ends (the code's rule before the model)");

        final Property property;
        final String rule;

        Variant(Property property, String rule) {
            this.property = property;
            this.rule = rule;
        }
    }

    private final Map<Property, PanRun> real = new EnumMap<>(Property.class);
    private final Map<Variant, PanRun> broken = new EnumMap<>(Variant.class);
    private long startedNanos;

    @BeforeAll
    void checkEverything(@TempDir Path work) throws Exception {
        startedNanos = System.nanoTime();
        ModelChecker checker = new ModelChecker(BASE.resolve("model").resolve("ferry.pml"));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Map<Object, Future<?>> jobs = new LinkedHashMap<>();
            jobs.put("model", pool.submit(() -> {
                ModelChecker.Verifier v = checker.build(work.resolve("model"), List.of());
                for (Property p : Property.values()) {
                    real.put(p, v.check(p));
                }
                return null;
            }));
            for (Variant variant : Variant.values()) {
                Callable<PanRun> job = () -> checker.build(work.resolve(variant.name()), List.of(variant.name()))
                        .check(variant.property);
                jobs.put(variant, pool.submit(job));
            }
            for (Map.Entry<Object, Future<?>> e : jobs.entrySet()) {
                Object result = e.getValue().get();
                if (e.getKey() instanceof Variant variant) {
                    synchronized (broken) {
                        broken.put(variant, (PanRun) result);
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void modelAsTheCodeIs_holdsEveryPropertyWithNoError() {
        for (Property p : Property.values()) {
            PanRun run = real.get(p);
            assertThat(run.complete()).as("the search for %s covered the whole state space:%n%s", p.ltlName(),
                    run.output()).isTrue();
            assertThat(run.errors()).as("errors for %s (pan exits 0 even with errors):%n%s", p.ltlName(),
                    run.output()).isZero();
            assertThat(run.states()).as("states explored for %s", p.ltlName()).isGreaterThan(1000);
        }
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void brokenVariant_givesACounterexample(Variant variant) {
        PanRun run = broken.get(variant);
        assertThat(run.errors()).as("-D%s (%s) must break %s; pan said:%n%s", variant.name(), variant.rule,
                variant.property.ltlName(), run.output()).isPositive();
    }

    @AfterAll
    void writeTheTable() throws Exception {
        if (real.size() < Property.values().length) {
            return;
        }
        Path doc = BASE.resolve("docs").resolve("model.md");
        String text = Files.readString(doc);
        int from = text.indexOf(BEGIN);
        int to = text.indexOf(END);
        if (from < 0 || to < from) {
            throw new IllegalStateException(doc + " lacks the markers " + BEGIN + " and " + END
                    + " between which this test writes its table; put them back");
        }
        String table = table(Duration.ofNanos(System.nanoTime() - startedNanos));
        Files.writeString(doc, text.substring(0, from + BEGIN.length()) + "\n" + table + text.substring(to));
        System.out.println(table);
    }

    /** The SPIN version as pan prints it, e.g. "SPIN 6.5.2". */
    private String spinVersion() {
        Matcher m = Pattern.compile("Spin Version ([0-9.]+)").matcher(real.get(Property.NEVER_TWO_RUNNING).output());
        return m.find() ? "SPIN " + m.group(1) : "SPIN";
    }

    private String table(Duration took) {
        List<String> out = new ArrayList<>();
        int builds = 1 + Variant.values().length;
        int searches = Property.values().length + Variant.values().length;
        out.add("Written by `dev.ferry.model.ModelCheckIT` on " + LocalDate.now(ZoneOffset.UTC) + " (" + spinVersion()
                + ", gcc -O0; the whole check, " + builds + " verifiers built and " + searches
                + " searches, two at a time, took " + took.toSeconds() + " s on this machine). Do not edit by hand.");
        out.add("");
        out.add("| property | `ltl` name | search | states | pan's time | errors |");
        out.add("|---|---|---|---|---|---|");
        for (Property p : Property.values()) {
            PanRun r = real.get(p);
            out.add("| " + p.words() + " | `" + p.ltlName() + "` | " + (p.liveness() ? "acceptance cycles (`-a`)"
                    : "safety") + " | " + r.states() + " | " + r.seconds() + " s | " + r.errors() + " |");
        }
        out.add("");
        out.add("| broken variant (`-D`) | the rule it breaks | property | counterexample found | states |");
        out.add("|---|---|---|---|---|");
        for (Variant v : Variant.values()) {
            PanRun r = broken.get(v);
            out.add("| `" + v.name() + "` | " + v.rule + " | `" + v.property.ltlName() + "` | "
                    + (r.errors() > 0 ? "yes" : "**NO**") + " | " + r.states() + " |");
        }
        return String.join("\n", out) + "\n";
    }
}
