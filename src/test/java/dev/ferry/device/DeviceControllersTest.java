package dev.ferry.device;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ferry.device.disk.DiskImage;
import dev.ferry.device.disk.DiskImages;
import dev.ferry.device.disk.ImageStore;
import dev.ferry.device.disk.LocalDiskController;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.vm.DeviceSpec;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmSpecParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeviceControllersTest {
    @TempDir
    Path dir;

    private final ToolRunner runner = new ToolRunner(new ProcessRunner());

    private VmSpec spec(String devices) throws Exception {
        Files.createFile(dir.resolve("data.qcow2"));
        Files.createFile(dir.resolve("tpm.sock"));
        return VmSpecParser.parse("name: web1\nmemoryMiB: 256\nvcpus: 1\ndevices:\n" + devices, dir);
    }

    private List<String> verdicts(DeviceControllers controllers, VmSpec spec) throws Exception {
        List<String> out = new ArrayList<>();
        for (DeviceControllers.Bound b : controllers.bind(spec, GuestControl.NONE)) {
            DeviceContext ctx = new DeviceContext(spec.name(), spec.uuid().toString(), b.ref(), Mode.LIVE, "b", e -> {});
            Verdict v = b.controller().check(ctx);
            out.add(b.ref().describe() + (v.migratable() ? ": ok" : " refuses migration: " + v.reason()));
        }
        return out;
    }

    @Test
    void passthroughPciAndToollessExternalTpm_areBothRefused_withReasons() throws Exception {
        VmSpec spec = spec("""
                  - {type: disk, id: data0, path: data.qcow2, format: qcow2, shared: true}
                  - {type: nic, id: net0, backend: user}
                  - {type: pci, id: gpu0, host: "0000:03:00.0"}
                  - {type: tpm, id: tpm0, backend: external, socket: tpm.sock}
                """);

        assertThat(verdicts(new DeviceControllers(Map.of(), runner), spec)).containsExactly(
                "device 'data0' (disk, shared): ok",
                "device 'net0' (nic, user): ok",
                "device 'gpu0' (pci, passthrough) refuses migration: passthrough PCI device 0000:03:00.0 cannot migrate;"
                        + " set its policy to 'migration: unplug-replug' or configure a migration tool for pci",
                "device 'tpm0' (tpm, external) refuses migration: no migration tool is configured for tpm");
    }

    @Test
    void configuredTool_takesOverTheExternalTpm() throws Exception {
        Path tool = dir.resolve("tpm-tool");
        Files.writeString(tool, "#!/bin/sh\nexit 0\n");
        tool.toFile().setExecutable(true);
        VmSpec spec = spec("  - {type: tpm, id: tpm0, backend: external, socket: tpm.sock}\n");

        DeviceControllers controllers = new DeviceControllers(Map.of("tpm", ToolSpec.of(tool, ToolDialect.FERRY)), runner);

        assertThat(verdicts(controllers, spec)).containsExactly("device 'tpm0' (tpm, external): ok");
        assertThat(controllers.bind(spec, GuestControl.NONE).get(0).controller()).isInstanceOf(ExternalToolController.class);
    }

    @Test
    void localDisk_isCopied_unlessADiskToolTakesIt() throws Exception {
        VmSpec spec = spec("  - {type: disk, id: data0, path: data.qcow2, format: qcow2}\n");
        Path tool = dir.resolve("disk-tool");
        Files.writeString(tool, "#!/bin/sh\nexit 0\n");
        tool.toFile().setExecutable(true);

        assertThat(verdicts(new DeviceControllers(Map.of(), runner), spec)).containsExactly("device 'data0' (disk, local): ok");
        assertThat(new DeviceControllers(Map.of(), runner).bind(spec, GuestControl.NONE).get(0).controller())
                .isInstanceOf(LocalDiskController.class);
        assertThat(new DeviceControllers(Map.of("disk", ToolSpec.of(tool, ToolDialect.FERRY)), runner)
                .bind(spec, GuestControl.NONE).get(0).controller()).isInstanceOf(ExternalToolController.class);
    }

    @Test
    void bindIncoming_aDiskToolFillsTheCopy_atThePathTheDestinationChose() throws Exception {
        VmSpec spec = spec("""
                  - {type: disk, id: data0, path: data.qcow2, format: qcow2}
                  - {type: nic, id: net0, backend: user}
                """);
        Path tool = dir.resolve("disk-tool");
        Files.writeString(tool, "#!/bin/sh\nexit 0\n");
        tool.toFile().setExecutable(true);
        DiskImages images = new DiskImages(new ProcessRunner());
        ImageStore store = new ImageStore(images, dir.resolve("images"), "127.0.0.1");
        DeviceControllers controllers = new DeviceControllers(Map.of("disk", ToolSpec.of(tool, ToolDialect.FERRY)), runner);

        List<DeviceControllers.Incoming> incoming = controllers.bindIncoming(spec,
                Map.of("data0", new DiskImage(dir.resolve("data.qcow2"), DiskImage.QCOW2, 4 << 20, 200_000, false)), store);

        Path target = dir.resolve("images/web1/data0.qcow2");
        assertThat(incoming).extracting(i -> i.ref().describe())
                .containsExactly("device 'data0' (disk, local)", "device 'net0' (nic, user)");
        assertThat(incoming.get(1).device()).isSameAs(IncomingDevice.NONE);
        assertThat(incoming.get(0).device().check()).isEmpty();
        assertThat(incoming.get(0).device().place(spec).device("data0").map(d -> ((DeviceSpec.Disk) d).path()))
                .contains(target);
        incoming.get(0).device().prepare();
        assertThat(incoming.get(0).device().open(GuestControl.NONE)).isEqualTo(target.toString());
        assertThat(images.info(target).virtualSize()).isEqualTo(4 << 20);
        assertThat(incoming.get(0).device().abort(() -> true)).isEmpty();
        assertThat(target).doesNotExist();
    }

    @Test
    void unplugReplugPci_unplugsBeforeAndReplugsOnRecovery() throws Exception {
        VmSpec spec = spec("  - {type: pci, id: nic9, host: \"0000:05:00.1\", migration: unplug-replug}\n");
        List<String> calls = new ArrayList<>();
        GuestControl guest = new GuestControl() {
            @Override
            public void unplug(String id) {
                calls.add("unplug " + id);
            }

            @Override
            public void plug(dev.ferry.vm.DeviceSpec device) {
                calls.add("plug " + device.id());
            }

            @Override
            public void announce(String nicId) {
                calls.add("announce " + nicId);
            }

            @Override
            public dev.ferry.qmp.QmpClient qmp() {
                throw new AssertionError("no QMP in this test");
            }
        };
        DeviceControllers.Bound b = new DeviceControllers(Map.of(), runner).bind(spec, guest).get(0);
        DeviceContext ctx = new DeviceContext("web1", "u", b.ref(), Mode.LIVE, "b", e -> {});

        b.controller().recover(ctx, Step.CHECK);
        b.controller().preSuspend(ctx);
        b.controller().recover(ctx, Step.PRE_SUSPEND);
        b.controller().afterResume(ctx);

        assertThat(calls).containsExactly("unplug nic9", "plug nic9", "plug nic9");
    }
}
