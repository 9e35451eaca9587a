package dev.ferry.migration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import dev.ferry.device.DeviceControllers;
import dev.ferry.device.ToolDialect;
import dev.ferry.device.ToolRunner;
import dev.ferry.device.ToolSpec;
import dev.ferry.device.disk.DiskImage;
import dev.ferry.device.disk.DiskImages;
import dev.ferry.device.disk.ImageStore;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.vm.DeviceSpec.Disk;
import dev.ferry.vm.DeviceSpec.DiskBus;
import dev.ferry.vm.DeviceSpec.DiskCache;
import dev.ferry.vm.DeviceSpec.DiskFormat;
import dev.ferry.vm.DeviceSpec;
import dev.ferry.vm.VmSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How the destination reads the source's spec: the disks not shared are what the source says they are. */
class IncomingSpecTest {
    @TempDir
    Path dir;

    private final Path image = Path.of("/srv/source-only/data0.raw");
    private final Path lun = Path.of("/dev/disk/by-id/source-only-lun");

    private PeerProtocol.Request request() {
        VmSpec spec = new VmSpec("web1", UUID.randomUUID(), 256, 1, VmSpec.DEFAULT_MACHINE, null, List.of(
                new Disk("data0", image, DiskFormat.RAW, false, DiskBus.VIRTIO, DiskCache.NONE, false),
                new Disk("lun0", lun, DiskFormat.RAW, false, DiskBus.VIRTIO, DiskCache.NONE, true)));
        return new PeerProtocol.Request(PeerProtocol.VERSION, "m1", "host-a", spec.toYaml(), "live",
                Map.of("data0", new DiskImage(image, DiskImage.RAW, 1 << 20, 1 << 20, false)),
                Map.of("lun0", lun), true);
    }

    @Test
    void sourceSpec_takesTheSourcesWordForTheDisksItCopies() throws Exception {
        VmSpec spec = IncomingSpec.fromSource(request());

        assertThat(spec.devices(Disk.class)).extracting(Disk::id, Disk::blockDevice)
                .containsExactly(tuple("data0", false), tuple("lun0", true));
    }

    @Test
    void aBlockDeviceThisHostLacks_isRefusedByItsCompanion_andTheCopyIsPlacedHere() throws Exception {
        VmSpec spec = IncomingSpec.fromSource(request());
        DeviceControllers controllers = new DeviceControllers(
                Map.of("disk", ToolSpec.of(dir.resolve("disk-tool"), ToolDialect.FERRY)),
                new ToolRunner(new ProcessRunner()));

        List<DeviceControllers.Incoming> incoming = controllers.bindIncoming(spec, request().localDisks(),
                new ImageStore(new DiskImages(new ProcessRunner()), dir.resolve("images"), "127.0.0.1"));

        assertThat(incoming.get(0).device().check()).isEmpty();
        assertThat(incoming.get(1).device().check()).singleElement().asString()
                .startsWith("host block device " + lun + " does not exist on this host");
        VmSpec here = incoming.get(1).device().place(incoming.get(0).device().place(spec));
        assertThat(here.devices(Disk.class)).extracting(DeviceSpec.Disk::path)
                .containsExactly(dir.resolve("images/web1/data0.raw"), lun);
    }
}
