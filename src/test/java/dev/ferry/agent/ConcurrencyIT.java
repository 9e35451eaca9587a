package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.ferry.agent.api.MigrateRequest;
import dev.ferry.guest.GuestConsole;
import dev.ferry.lab.Api;
import dev.ferry.lab.Lab;
import dev.ferry.lab.LabAgent;
import dev.ferry.lab.TestGuest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests that meet a running migration, against real agents and guests: a second migration
 * of the same VM, a stop of it, migrations crossing between two hosts, and a migration to the
 * VM's own host. The tool of each guest's external device holds its pre-suspend step so that the
 * first migration is certainly running when the second request arrives.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConcurrencyIT {
    private static final String VM1 = "crossvm1";
    private static final String VM2 = "crossvm2";
    private static final Duration ENDS = Duration.ofSeconds(240);

    private Lab lab;
    private Path root;

    @BeforeAll
    void startTheLab(@TempDir Path root) throws Exception {
        this.root = root;
        lab = Lab.in(root).fakeTool("hold", Map.of("pre-suspend", "5m")).start();
    }

    @AfterEach
    void letGo() throws Exception {
        lab.tool().reset();
    }

    @AfterAll
    void stopTheLab() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void secondMigrationAndStopOfAMigratingVm_get409NamingTheMigration_theFirstCompletes() throws Exception {
        String from = hostOf(VM1, Lab.A);
        String to = lab.other(from);
        Api source = lab.api(from);
        lab.tool().holdAt("pre-suspend");
        String first = source.startMigration(request(VM1, to));
        assertThat(lab.tool().awaitHeld(Duration.ofSeconds(120))).as("the first migration got to pre-suspend").isTrue();

        Api.Reply second = source.post("/v1/migrations", request(VM1, to));
        assertThat(second.status()).isEqualTo(409);
        assertThat(second.body().toString()).contains("vm '" + VM1 + "' is busy", "migration " + first);
        Api.Reply stop = source.post("/v1/vms/" + VM1 + "/stop", null);
        assertThat(stop.status()).isEqualTo(409);
        assertThat(stop.body().toString()).contains("migration " + first);
        List<String> running = new ArrayList<>();
        for (JsonNode m : source.get("/v1/migrations").body().path("migrations")) {
            if (m.path("vm").asText().equals(VM1) && m.path("running").asBoolean()) {
                running.add(m.path("id").asText());
            }
        }
        assertThat(running).as("no second migration of the VM was started").containsExactly(first);

        lab.tool().release();
        assertThat(source.awaitMigration(first, ENDS).body().path("phase").asText()).isEqualTo("completed");
        assertTicksOn(to, VM1);
    }

    @Test
    void migrationToTheVmsOwnHost_byUrl_refusedAtCheck_byName_refusedAtOnce() throws Exception {
        String here = hostOf(VM1, Lab.A);
        Api api = lab.api(here);

        JsonNode byUrl = api.awaitMigration(api.startMigration(request(VM1, api.url().toString())), ENDS).body();
        assertThat(byUrl.path("phase").asText()).isEqualTo("refused");
        // Over mutual TLS the agent turns its own certificate away as a caller of its peer API before it
        // looks at the VM (a plain agent says instead that the destination is the VM's own host).
        assertThat(byUrl.path("report").path("blockers").toString())
                .contains("host '" + here + "' is not a peer of this agent");

        Api.Reply byName = api.post("/v1/migrations", request(VM1, here));
        assertThat(byName.status()).isEqualTo(400);
        assertThat(byName.body().toString()).contains("'" + here + "' is this host");

        assertThat(api.vmState(VM1)).isEqualTo("running");
        assertTicksOn(here, VM1);
    }

    @Test
    void crossingMigrations_bothComplete_eachVmRunsOnTheOtherHostOnly() throws Exception {
        String a = hostOf(VM1, Lab.A);
        String b = lab.other(a);
        hostOf(VM2, b);
        if (!lab.api(b).vmState(VM2).equals("running")) {
            throw new IllegalStateException(VM2 + " should run on " + b);
        }
        lab.tool().holdAt("pre-suspend");
        String one = lab.api(a).startMigration(request(VM1, b));
        String two = lab.api(b).startMigration(request(VM2, a));
        await("both migrations reach pre-suspend").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250))
                .until(() -> phase(a, one).equals("pre-suspend") && phase(b, two).equals("pre-suspend"));
        lab.tool().release();

        assertThat(lab.api(a).awaitMigration(one, ENDS).body().path("phase").asText()).isEqualTo("completed");
        assertThat(lab.api(b).awaitMigration(two, ENDS).body().path("phase").asText()).isEqualTo("completed");
        assertTicksOn(b, VM1);
        assertTicksOn(a, VM2);
        assertThat(lab.api(a).get("/v1/vms/" + VM1).status()).isEqualTo(404);
        assertThat(lab.api(b).get("/v1/vms/" + VM2).status()).isEqualTo(404);
    }

    /** Where {@code vm} runs; it is booted on {@code bootOn} when it runs nowhere. */
    private String hostOf(String vm, String bootOn) throws Exception {
        for (String host : lab.hosts()) {
            if (lab.api(host).vmState(vm).equals("running")) {
                return host;
            }
        }
        for (String host : lab.hosts()) {
            lab.api(host).removeIfPresent(vm);
        }
        Path disk = TestGuest.createDisk(root.resolve(vm + ".qcow2"));
        String spec = TestGuest.named(vm).disk(disk).external("hold0", "hold").yaml();
        TestGuest.awaitBooted(lab.defineAndStart(bootOn, vm, spec), true, 3);
        return bootOn;
    }

    private String phase(String host, String id) throws Exception {
        return lab.api(host).migration(id).body().path("phase").asText();
    }

    private void assertTicksOn(String host, String vm) throws Exception {
        LabAgent agent = lab.agent(host);
        assertThat(agent.api().vmState(vm)).isEqualTo("running");
        Path log = agent.api().serialLog(vm);
        long tick = GuestConsole.read(log).lastTick();
        GuestConsole later = GuestConsole.await(log, c -> c.lastTick() >= tick + 5, Duration.ofSeconds(60));
        assertThat(later.lastTick()).as("%s ticks on %s", vm, host).isGreaterThanOrEqualTo(tick + 5);
    }

    private static MigrateRequest request(String vm, String to) {
        return new MigrateRequest(vm, to, false, null, null, null, null, 60L);
    }
}
