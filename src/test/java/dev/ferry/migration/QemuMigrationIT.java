package dev.ferry.migration;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.device.DeviceControllers;
import dev.ferry.device.Mode;
import dev.ferry.device.QmpGuestControl;
import dev.ferry.device.ToolRunner;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.vm.QemuHost;
import dev.ferry.vm.VmHandle;
import dev.ferry.vm.PathRoots;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmSpecParser;
import dev.ferry.vm.VmState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Live migration between two real QEMUs on this machine, without agents: the QEMU side of the protocol. */
class QemuMigrationIT {
    @TempDir
    Path dir;

    private final ProcessRunner runner = new ProcessRunner();
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private QemuHost sourceHost;
    private QemuHost destHost;
    private VmSpec spec;
    private final MemoryVms destVms = new MemoryVms();
    private final List<VmHandle> handles = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        Path qemu = Path.of("/usr/bin/qemu-system-x86_64");
        Path swtpm = Path.of("/usr/bin/swtpm");
        sourceHost = new QemuHost(Files.createDirectories(dir.resolve("a")), qemu, swtpm, runner);
        destHost = new QemuHost(Files.createDirectories(dir.resolve("b")), qemu, swtpm, runner);
        Path image = dir.resolve("data.qcow2");
        assertThat(runner.run(Command.of("qemu-img", "create", "-f", "qcow2", image.toString(), "64M")).ok()).isTrue();
        spec = VmSpecParser.parse("""
                name: mig1
                memoryMiB: 128
                vcpus: 1
                devices:
                  - {type: disk, id: data0, path: data.qcow2, format: qcow2, shared: true}
                  - {type: nic, id: net0, backend: user}
                  - {type: tpm, id: tpm0, backend: swtpm}
                """, dir);
    }

    @AfterEach
    void tearDown() throws Exception {
        for (VmHandle h : handles) {
            if (h.isAlive()) {
                h.destroy();
            }
        }
        for (VmHandle h : destVms.handles.values()) {
            if (h.isAlive()) {
                h.destroy();
            }
        }
        executor.shutdownNow();
    }

    private IncomingMigrations incoming() {
        DeviceControllers controllers = new DeviceControllers(Map.of(), new ToolRunner(runner));
        return new IncomingMigrations(destHost, destVms, new MemoryStore(), controllers, "127.0.0.1",
                Clock.systemUTC(), new dev.ferry.device.disk.DiskImages(runner), dir.resolve("b-images"), Fakes.roots(dir));
    }

    private static PeerProtocol.Request request(MigrationPlan plan, VmSpec spec) {
        return new PeerProtocol.Request(PeerProtocol.VERSION, plan.id(), "a", spec.toYaml(), "live", Map.of(), Map.of(), true);
    }

    private MigrationPlan plan(VmHandle source) {
        DeviceControllers controllers = new DeviceControllers(Map.of(), new ToolRunner(runner));
        List<MigrationPlan.Unit> units = controllers.bind(spec, new QmpGuestControl(source.qmp())).stream()
                .map(b -> new MigrationPlan.Unit(b.ref(), b.controller())).toList();
        return new MigrationPlan("m-" + System.nanoTime(), spec.name(), spec.uuid().toString(), "a", Mode.LIVE, "b",
                units, MigrationParams.defaults());
    }

    @Test
    void liveMigration_movesTheRunningVm_andLeavesNothingOnTheSource() throws Exception {
        VmHandle source = sourceHost.start(spec);
        handles.add(source);
        MigrationPlan plan = plan(source);
        QmpSourceQemu stream = new QmpSourceQemu(spec.name(), source.qmp(), Clock.systemUTC(), () -> {
            try {
                source.destroy();
            } catch (Exception e) {
                throw new MigrationException(e.getMessage(), e);
            }
        });
        Destination dest = new LocalDestination(incoming(), request(plan, spec));

        MigrationReport report = new MigrationCoordinator(Clock.systemUTC(), executor)
                .migrate(plan, stream, dest, Journal.discarding(plan.id(), spec.name(), Clock.systemUTC()),
                        MigrationListener.NONE, new Cancellation());

        assertThat(report.failure()).isNull();
        assertThat(report.result()).isEqualTo(Result.COMPLETED);
        assertThat(destVms.handle(spec.name())).isPresent();
        assertThat(destVms.handle(spec.name()).get().state()).isEqualTo(VmState.RUNNING);
        assertThat(destVms.state(spec.name())).isEqualTo(VmState.RUNNING);
        assertThat(source.isAlive()).isFalse();
        assertThat(report.downtimeMs()).isNotNull().isPositive();
        assertThat(report.qemuDowntimeMs()).isNotNull();
        try (Stream<Path> left = Files.list(dir.resolve("a"))) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void failedDevice_rollsBack_andTheSourceRunsAgain() throws Exception {
        VmHandle source = sourceHost.start(spec);
        handles.add(source);
        MigrationPlan good = plan(source);
        List<MigrationPlan.Unit> units = new ArrayList<>(good.devices());
        units.add(new MigrationPlan.Unit(new dev.ferry.device.DeviceRef("ext0", "external", "fake"),
                new Fakes.Device("ext0", new Fakes.Log()).failingAt(dev.ferry.device.Step.POST_SUSPEND)));
        MigrationPlan plan = new MigrationPlan(good.id(), good.vmName(), good.vmUuid(), "a", Mode.LIVE, "b", units,
                good.params());
        QmpSourceQemu stream = new QmpSourceQemu(spec.name(), source.qmp(), Clock.systemUTC(), source::close);
        Destination dest = new LocalDestination(incoming(), request(plan, spec));

        MigrationReport report = new MigrationCoordinator(Clock.systemUTC(), executor)
                .migrate(plan, stream, dest, Journal.discarding(plan.id(), spec.name(), Clock.systemUTC()),
                        MigrationListener.NONE, new Cancellation());

        assertThat(report.result()).isEqualTo(Result.ROLLED_BACK);
        assertThat(report.failure().device()).isEqualTo("device 'ext0' (external, fake)");
        assertThat(source.state()).isEqualTo(VmState.RUNNING);
        assertThat(destVms.defined(spec.name())).isFalse();
        try (Stream<Path> left = Files.list(dir.resolve("b"))) {
            assertThat(left).as("nothing left on the destination").isEmpty();
        }
    }
}
