package dev.ferry.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.agent.api.MigrateRequest;
import dev.ferry.guest.GuestConsole;
import dev.ferry.lab.Api;
import dev.ferry.lab.Lab;
import dev.ferry.lab.TestGuest;
import dev.ferry.migration.MigrationReport;
import dev.ferry.migration.MigrationStatus;
import dev.ferry.pki.TestPki;
import dev.ferry.pki.TlsDir;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * QEMU's TLS failing at either end while the agents' own TLS works: each test swaps one host's
 * certificate files after its agent read them at start, so only its QEMU, which reads them when a
 * migration begins, presents the other certificate. Either way the migration rolls back, the guest
 * goes on running on the source, nothing is left on the destination, and the report says why.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StreamTlsFailureIT {
    private static final String VM = "tlsvm";

    private Lab lab;
    private Api onA;
    private Api onB;
    private Path swapped;
    private Path saved;

    @BeforeAll
    void startTheLabAndTheGuest(@TempDir Path root) throws Exception {
        lab = Lab.in(root).start();
        onA = lab.api(Lab.A);
        onB = lab.api(Lab.B);
        Path disk = TestGuest.createDisk(root.resolve("data.qcow2"));
        String spec = TestGuest.named(VM).disk(disk).withoutTpm().yaml();
        TestGuest.awaitBooted(lab.defineAndStart(Lab.A, VM, spec), false, 3);
    }

    @AfterEach
    void putTheCertificatesBack() throws Exception {
        if (swapped != null) {
            for (String file : List.of(TlsDir.SERVER_CERT, TlsDir.SERVER_KEY, TlsDir.CLIENT_CERT, TlsDir.CLIENT_KEY)) {
                Files.copy(saved.resolve(file), swapped.resolve(file), StandardCopyOption.REPLACE_EXISTING);
            }
            swapped = null;
        }
    }

    @AfterAll
    void stopTheLab() throws Exception {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void sourceRejectingTheDestinationsCertificate_rollsBack_andTheDestinationQemuIsGone() throws Exception {
        // The cluster's CA, but not a name the source reaches host-b by: the source's QEMU must refuse it.
        swapQemuCertificate(Lab.B, "host-b", "elsewhere.invalid", null);

        MigrationReport report = migrateToB();

        assertThat(report.result().wireName()).isEqualTo("rolled-back");
        assertThat(report.failure().message()).containsIgnoringCase("certificate").contains("127.0.0.1");
        assertGuestRunsOnA();
        assertDestinationClean();
    }

    @Test
    void destinationRejectingTheSource_rollsBack_andTheIncomingQemuIsDestroyed() throws Exception {
        // A certificate of the cluster for another host: host-b's QEMU lets in only host-a's subject.
        swapQemuCertificate(Lab.A, "host-c", "localhost", "127.0.0.1");

        MigrationReport report = migrateToB();

        assertThat(report.result().wireName()).isEqualTo("rolled-back");
        assertThat(report.failure().message()).containsIgnoringCase("TLS");
        assertGuestRunsOnA();
        assertDestinationClean();
    }

    /** Replaces {@code host}'s certificate files with one for {@code cn}, valid for {@code dns} and {@code ip}. */
    private void swapQemuCertificate(String host, String cn, String dns, String ip) throws Exception {
        TestPki pki = lab.pki();
        Path other = lab.root().resolve("pki").resolve(host + "-as-" + cn);
        pki.ca().issueHost(cn, List.of(dns), ip == null ? List.of() : List.of(InetAddress.getByName(ip)), TestPki.YEAR,
                other);
        Path dir = lab.root().resolve("pki").resolve(host);
        saved = lab.root().resolve("pki").resolve(host + "-saved-" + System.nanoTime());
        Files.createDirectories(saved);
        for (String file : List.of(TlsDir.SERVER_CERT, TlsDir.SERVER_KEY, TlsDir.CLIENT_CERT, TlsDir.CLIENT_KEY)) {
            Files.copy(dir.resolve(file), saved.resolve(file));
            Files.copy(other.resolve(file), dir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
        }
        swapped = dir;
    }

    private MigrationReport migrateToB() throws Exception {
        String id = onA.startMigration(new MigrateRequest(VM, Lab.B, false, null, null, null, null, 20L));
        MigrationStatus done = onA.awaitMigration(id, Duration.ofMinutes(3)).as(MigrationStatus.class);
        assertThat(done.running()).isFalse();
        return done.report();
    }

    private void assertGuestRunsOnA() throws Exception {
        assertThat(onA.get("/v1/vms/" + VM).body().path("state").asText()).isEqualTo("running");
        Path log = onA.serialLog(VM);
        long tick = GuestConsole.read(log).lastTick();
        GuestConsole later = GuestConsole.await(log, c -> c.lastTick() >= tick + 5, Duration.ofSeconds(30));
        assertThat(later.lastTick()).as("the guest ticks again on the source").isGreaterThanOrEqualTo(tick + 5);
    }

    private void assertDestinationClean() throws Exception {
        assertThat(onB.get("/v1/vms").body().path("vms")).isEmpty();
        Path run = lab.agent(Lab.B).runRoot();
        if (Files.exists(run)) {
            try (Stream<Path> left = Files.list(run)) {
                assertThat(left).as("nothing left in the destination's run directory").isEmpty();
            }
        }
        assertThat(lab.processesIn(run)).as("no process of the destination's").isEmpty();
    }
}
