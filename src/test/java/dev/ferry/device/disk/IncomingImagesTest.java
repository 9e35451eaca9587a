package dev.ferry.device.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.device.DeviceException;
import dev.ferry.device.GuestControl;
import dev.ferry.device.IncomingDevice;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.vm.DeviceSpec;
import dev.ferry.vm.VmSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IncomingImagesTest {
    private static final long MIB = 1024 * 1024;

    @TempDir
    Path dir;

    private final DiskImages images = new DiskImages(new ProcessRunner());

    private IncomingImages copies() {
        return new IncomingImages(new ImageStore(images, dir.resolve("images"), "127.0.0.1"), "web1");
    }

    private static DeviceSpec.Disk disk(String id, Path path, DeviceSpec.DiskFormat format) {
        return new DeviceSpec.Disk(id, path, format, false, DeviceSpec.DiskBus.VIRTIO, DeviceSpec.DiskCache.NONE, false);
    }

    private static DiskImage raw(String name, long bytes) {
        return new DiskImage(Path.of("/src/" + name), DiskImage.RAW, bytes, bytes, false);
    }

    @Test
    void check_refusesWhenThisHostHasNoRoom() {
        IncomingDevice copy = copies().image(disk("data0", Path.of("/src/data0.raw"), DeviceSpec.DiskFormat.RAW),
                raw("data0.raw", Long.MAX_VALUE / 4), false);

        assertThat(copy.check()).singleElement().asString()
                .startsWith("disk 'data0': not enough room in " + dir)
                .contains("its virtual size");
    }

    @Test
    void check_countsTheRoomOfTheVmsEarlierDisks() throws Exception {
        long usable = images.usableSpace(dir);
        IncomingImages copies = copies();
        IncomingDevice first = copies.image(disk("a", Path.of("/src/a.raw"), DeviceSpec.DiskFormat.RAW),
                raw("a.raw", usable / 3 * 2), false);
        IncomingDevice second = copies.image(disk("b", Path.of("/src/b.raw"), DeviceSpec.DiskFormat.RAW),
                raw("b.raw", usable / 3 * 2), false);

        assertThat(first.check()).isEmpty();
        assertThat(second.check()).singleElement().asString().startsWith("disk 'b': not enough room");
    }

    @Test
    void check_refusesATargetThatIsAlreadyThere() throws Exception {
        Files.createDirectories(dir.resolve("images/web1"));
        Files.createFile(dir.resolve("images/web1/data0.raw"));
        IncomingDevice copy = copies().image(disk("data0", Path.of("/src/data0.raw"), DeviceSpec.DiskFormat.RAW),
                raw("data0.raw", MIB), false);

        assertThat(copy.check()).containsExactly("an image " + dir.resolve("images/web1/data0.raw")
                + " already exists on this host; remove it if it is a leftover");
    }

    @Test
    void check_refusesWithoutTheSourcesSize() throws DeviceException {
        IncomingDevice copy = copies().image(disk("data0", Path.of("/src/data0.raw"), DeviceSpec.DiskFormat.RAW),
                null, true);

        assertThat(copy.check()).singleElement().asString().startsWith("the source sent no size for this disk");
        assertThatThrownBy(copy::prepare).isInstanceOf(DeviceException.class).hasMessageContaining("no size");
    }

    @Test
    void prepareThenAbort_removesExactlyWhatItMade() throws Exception {
        Files.createDirectories(dir.resolve("images/web1"));
        Path neighbour = Files.createFile(dir.resolve("images/web1/notes.txt"));
        IncomingDevice copy = copies().image(disk("data0", Path.of("/src/data0.qcow2"), DeviceSpec.DiskFormat.QCOW2),
                new DiskImage(Path.of("/src/data0.qcow2"), DiskImage.QCOW2, 4 * MIB, 200_000, false), true);

        copy.prepare();
        Path target = dir.resolve("images/web1/data0.qcow2");
        assertThat(images.info(target).virtualSize()).isEqualTo(4 * MIB);

        assertThat(copy.abort(() -> false)).isEmpty();
        assertThat(target).doesNotExist();
        assertThat(neighbour).exists();
    }

    @Test
    void abort_removesTheVmsDirectory_whenItMadeIt() throws Exception {
        IncomingDevice copy = copies().image(disk("data0", Path.of("/src/data0.raw"), DeviceSpec.DiskFormat.RAW),
                raw("data0.raw", MIB), true);

        copy.prepare();
        copy.abort(() -> false);

        assertThat(dir.resolve("images/web1")).doesNotExist();
        assertThat(dir.resolve("images")).exists();
    }

    @Test
    void abortBeforePrepare_removesNothing() throws Exception {
        Files.createDirectories(dir.resolve("images/web1"));
        Path someoneElses = Files.createFile(dir.resolve("images/web1/data0.raw"));
        IncomingDevice copy = copies().image(disk("data0", Path.of("/src/data0.raw"), DeviceSpec.DiskFormat.RAW),
                raw("data0.raw", MIB), true);

        assertThat(copy.abort(() -> false)).isEmpty();
        assertThat(someoneElses).exists();
    }

    @Test
    void toolFilledCopy_isOpenedAsItsPath_andPlacedThereInTheSpec() throws Exception {
        DeviceSpec.Disk source = disk("data0", Path.of("/src/data0.raw"), DeviceSpec.DiskFormat.RAW);
        IncomingDevice copy = copies().image(source, raw("data0.raw", MIB), true);
        VmSpec spec = new VmSpec("web1", UUID.randomUUID(), 256, 1, VmSpec.DEFAULT_MACHINE, null, List.of(source));

        assertThat(copy.open(GuestControl.NONE)).isEqualTo(dir.resolve("images/web1/data0.raw").toString());
        assertThat(copy.place(spec).devices(DeviceSpec.Disk.class)).singleElement()
                .extracting(DeviceSpec.Disk::path).isEqualTo(dir.resolve("images/web1/data0.raw"));
    }

    @Test
    void blockDevice_refusesWhenThisHostLacksIt() {
        IncomingDevice device = copies().blockDevice(disk("lun0", dir.resolve("no-such-device"), DeviceSpec.DiskFormat.RAW));

        assertThat(device.check()).singleElement().asString()
                .startsWith("host block device " + dir.resolve("no-such-device") + " does not exist on this host");
    }

    @Test
    void blockDevice_refusesAFileAtItsPath() throws Exception {
        Path file = Files.createFile(dir.resolve("sdx"));
        IncomingDevice device = copies().blockDevice(disk("lun0", file, DeviceSpec.DiskFormat.RAW));

        assertThat(device.check()).singleElement().asString().contains("is a host block device on the source but not");
    }

    @Test
    void blockDevice_isOpenedAtTheSamePath_andNeverRemoved() throws Exception {
        Path device = Files.createFile(dir.resolve("sdx"));
        IncomingDevice lun = copies().blockDevice(disk("lun0", device, DeviceSpec.DiskFormat.RAW));

        lun.prepare();
        assertThat(lun.open(GuestControl.NONE)).isEqualTo(device.toString());
        assertThat(lun.abort(() -> true)).isEmpty();
        assertThat(device).exists();
    }
}
