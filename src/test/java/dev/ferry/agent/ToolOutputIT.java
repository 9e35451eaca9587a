package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.agent.api.MigrateRequest;
import dev.ferry.guest.GuestConsole;
import dev.ferry.lab.Api;
import dev.ferry.lab.FakeTool;
import dev.ferry.lab.Lab;
import dev.ferry.lab.TestGuest;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.Processes;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tool that floods its output or leaves processes behind, against two agent processes (each
 * with the small heap it has in the lab) and the real test guest, whose external device's tool is
 * the lab's fake tool. The guest moves back and forth between the tests.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ToolOutputIT {
    private static final String VM = "floodvm";
    /** The cap on a report the fault matrix also holds reports to. */
    private static final int REPORT_CAP = 64 * 1024;

    private Lab lab;
    private Path disk;

    @BeforeAll
    void startTheLab(@TempDir Path root) throws Exception {
        String t = "120s";
        lab = Lab.in(root).separateJvms().fakeTool("fault", Map.of("check", t, "pre-suspend", t, "post-suspend", t,
                "sync", t)).start();
        disk = TestGuest.createDisk(root.resolve("data.qcow2"));
    }

    @BeforeEach
    void everyToolStepSucceeds() throws Exception {
        lab.tool().reset();
    }

    @AfterAll
    void stopTheLab() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void jsonFloodAtPostSuspend_completes_andTheSourceRecordsHowItEnded() throws Exception {
        String from = guestRuns();
        lab.tool().at("post-suspend", "json-flood:40");

        JsonNode status = migrate(from);

        assertThat(status.path("phase").asText()).as("the source's record: %s", abbreviate(status)).isEqualTo("completed");
        JsonNode report = status.path("report");
        assertThat(report.path("result").asText()).isEqualTo("completed");
        assertThat(report.toString().length()).as("the report stays small").isLessThan(REPORT_CAP);
        assertThat(report.path("notes").toString()).contains("more messages dropped")
                .contains("done flooding at post-suspend");
        assertThat(lab.api(lab.other(from)).vmState(VM)).isEqualTo("running");
        guestTicksOn(lab.other(from));

        String id = status.path("id").asText();
        JsonNode calls = lab.api(from).get("/v1/migrations/" + id + "/tool-output").body().path("calls");
        assertThat(calls).extracting(c -> c.path("step").asText()).containsExactly("check", "pre-suspend", "post-suspend",
                "sync");
        JsonNode flood = calls.get(2);
        assertThat(flood.path("stdoutBytes").asLong()).isGreaterThan(80L * 1024 * 1024);
        assertThat(flood.path("stdout").asText()).hasSizeLessThanOrEqualTo(64 * 1024).endsWith("done flooding at post-suspend\"}\n");
        assertThat(flood.path("stderr").asText()).contains("a stderr line from the tool");
        ProcResult shown = lab.agent(from).ferry("migration", "show", id, "--tool-output");
        assertThat(shown.ok()).as(shown.describe()).isTrue();
        assertThat(shown.stdout().text()).contains("a stderr line from the tool")
                .contains("== device fpga0, step sync: " + lab.tool().path() + " exited 0");
    }

    @Test
    void jsonFloodAtEveryStep_completes_withABoundedReport() throws Exception {
        String from = guestRuns();
        lab.tool().at("all", "json-flood");

        JsonNode status = migrate(from);

        assertThat(status.path("phase").asText()).as("the source's record: %s", abbreviate(status)).isEqualTo("completed");
        JsonNode report = status.path("report");
        assertThat(report.toString().length()).as("the report stays small").isLessThan(REPORT_CAP);
        for (String step : List.of("check", "pre-suspend", "post-suspend", "sync")) {
            assertThat(report.path("notes").toString()).as("the last message of %s", step)
                    .contains("done flooding at " + step);
        }
        assertThat(lab.tool().calls()).doesNotContain("--step recover");
        guestTicksOn(lab.other(from));
    }

    @Test
    void childrenATookLeavesBehind_atEveryStep_areGoneWhenTheMigrationEnds() throws Exception {
        String from = guestRuns();
        lab.tool().at("all", "escape");

        JsonNode status = migrate(from);

        assertThat(status.path("phase").asText()).as("the source's record: %s", abbreviate(status)).isEqualTo("completed");
        List<Long> escaped = lab.tool().escapedPids();
        assertThat(escaped).as("three children at each of the four steps").hasSize(12);
        assertThat(escaped.stream().filter(Processes::isAlive).toList()).as("children still alive").isEmpty();
        guestTicksOn(lab.other(from));
    }

    /** Where the guest runs; boots it on host a when it runs nowhere. */
    private String guestRuns() throws Exception {
        for (String host : lab.hosts()) {
            if (lab.api(host).vmState(VM).equals("running")) {
                return host;
            }
        }
        for (String host : lab.hosts()) {
            lab.api(host).removeIfPresent(VM);
        }
        String spec = TestGuest.named(VM).disk(disk).external("fpga0", "fault").yaml();
        TestGuest.awaitBooted(lab.defineAndStart(Lab.A, VM, spec), true, 5);
        return Lab.A;
    }

    /** Migrates the guest away from {@code from}; returns the source's final status of the migration. */
    private JsonNode migrate(String from) throws Exception {
        Api api = lab.api(from);
        String id = api.startMigration(new MigrateRequest(VM, lab.other(from), false, null, null, null, null, 120L));
        return api.awaitMigration(id, Duration.ofMinutes(5)).body();
    }

    private void guestTicksOn(String host) throws Exception {
        Path log = lab.api(host).serialLog(VM);
        long tick = GuestConsole.read(log).lastTick();
        GuestConsole later = GuestConsole.await(log, c -> c.lastTick() >= tick + 5, Duration.ofSeconds(20));
        assertThat(later.lastTick()).as("the guest ticks on %s", host).isGreaterThanOrEqualTo(tick + 5);
    }

    private static String abbreviate(JsonNode status) {
        String s = status.toString();
        return s.length() <= 2000 ? s : s.substring(0, 2000) + "...";
    }
}
