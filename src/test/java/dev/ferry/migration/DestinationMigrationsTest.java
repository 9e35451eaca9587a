package dev.ferry.migration;

import dev.ferry.vm.PathRoots;
import static dev.ferry.migration.IncomingMigrationsTest.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.device.DeviceControllers;
import dev.ferry.device.disk.DiskImages;
import dev.ferry.lab.FakeClock;
import dev.ferry.migration.PeerProtocol.Ownership;
import dev.ferry.migration.RequestException.Kind;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.vm.VmException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The peer endpoints' answers: the protocol's failures as the API's request errors. */
class DestinationMigrationsTest {
    @TempDir
    Path dir;

    private final MemoryStore store = new MemoryStore();
    private final MemoryVms vms = new MemoryVms();
    private RecordingVmHost runtime;
    private DestinationMigrations destination;

    @BeforeEach
    void setUp() {
        runtime = new RecordingVmHost(dir);
        IncomingMigrations incoming = new IncomingMigrations(runtime, vms, store, new DeviceControllers(Map.of(), null),
                "127.0.0.1", new FakeClock(), new DiskImages(new ProcessRunner()), dir.resolve("images"), Fakes.roots(dir));
        destination = new DestinationMigrations(incoming, runtime, vms, Fakes.roots(dir));
    }

    @AfterEach
    void tearDown() {
        runtime.close();
    }

    @Test
    void prepare_ofAnotherProtocolVersion_isAConflictNamingBothVersions() {
        int other = PeerProtocol.VERSION + 1;
        assertThatThrownBy(() -> destination.prepare(request("m1", true, other)))
                .isInstanceOfSatisfying(RequestException.class, e -> assertThat(e.kind()).isEqualTo(Kind.CONFLICT))
                .hasMessageContaining("peer protocol version " + other)
                .hasMessageContaining("this host speaks version " + PeerProtocol.VERSION);
        assertThat(store.journal("m1")).isEmpty();
    }

    @Test
    void check_ofAnotherProtocolVersion_repliesWithTheBlocker() {
        assertThat(destination.check(request("m1", true, 1)).blockers()).singleElement()
                .satisfies(b -> assertThat(b.reason()).contains("version 1").contains("version " + PeerProtocol.VERSION));
    }

    @Test
    void switchover_ofAMigrationNotTakenHere_isNotTaken() {
        assertThatThrownBy(() -> destination.switchover(request("m1", true)))
                .isInstanceOfSatisfying(RequestException.class, e -> assertThat(e.kind()).isEqualTo(Kind.NOT_TAKEN));
    }

    @Test
    void abort_afterOwnership_isAConflict() throws Exception {
        destination.prepare(request("m1", true));
        runtime.qemus.get("web1").migration = "completed";
        destination.switchover(request("m1", true));

        assertThatThrownBy(() -> destination.abort(request("m1", true)))
                .isInstanceOfSatisfying(RequestException.class, e -> assertThat(e.kind()).isEqualTo(Kind.CONFLICT))
                .hasMessageContaining("already belongs to this host");
        assertThat(destination.ownership("m1")).isEqualTo(Ownership.OWNED);
    }

    @Test
    void prepare_whenQemuDoesNotStart_isAFailedRequest() {
        runtime.startFailure = new VmException("vm 'web1': qemu exited at start: boom");

        assertThatThrownBy(() -> destination.prepare(request("m1", true)))
                .isInstanceOfSatisfying(RequestException.class, e -> assertThat(e.kind()).isEqualTo(Kind.FAILED))
                .hasMessageContaining("boom");
        assertThat(destination.ownership("m1")).isEqualTo(Ownership.ABORTED);
    }
}
