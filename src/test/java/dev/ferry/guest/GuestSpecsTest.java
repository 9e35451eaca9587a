package dev.ferry.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.proc.ProcessRunner;
import dev.ferry.vm.DeviceSpec;
import dev.ferry.vm.SpecException;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmSpecParser;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The spec written for the test guest, with fake kit files and a data disk that exists already (no qemu-img). */
class GuestSpecsTest {
    @TempDir
    Path tmp;

    private GuestArtifacts guest;
    private Path dir;
    private final GuestSpecs specs = new GuestSpecs(new ProcessRunner());

    @BeforeEach
    void fakeKit() throws Exception {
        Path kit = Files.createDirectory(tmp.resolve("kit"));
        guest = new GuestArtifacts(Files.writeString(kit.resolve("vmlinuz"), "kernel"),
                Files.writeString(kit.resolve("initramfs.cpio.gz"), "initramfs"), "6.1.0-test", "console=ttyS0 panic=-1");
        dir = tmp.resolve("vms");
    }

    private Path existingDisk(String name) throws Exception {
        Files.createDirectories(dir);
        return Files.writeString(GuestSpecs.diskFile(dir, name), "records");
    }

    @Test
    void write_bootsTheKitWithASharedQcow2DiskAUserNicAndAnSwtpm() throws Exception {
        Path disk = existingDisk("demo1");

        GuestSpecs.Written written = specs.write(guest, "demo1", dir, "64M", 192);

        assertThat(written.spec()).isEqualTo(dir.resolve("demo1.yaml")).isRegularFile();
        VmSpec spec = VmSpecParser.parse(Files.readString(written.spec()), dir);
        assertThat(spec.name()).isEqualTo("demo1");
        assertThat(spec.memoryMiB()).isEqualTo(192);
        assertThat(spec.kernelBoot()).isEqualTo(new VmSpec.KernelBoot(guest.kernel(), guest.initramfs(), guest.kernelCmdline()));
        assertThat(spec.devices(DeviceSpec.Disk.class)).singleElement().satisfies(d -> {
            assertThat(d.path()).isEqualTo(disk);
            assertThat(d.format()).isEqualTo(DeviceSpec.DiskFormat.QCOW2);
            assertThat(d.shared()).isTrue();
        });
        assertThat(spec.devices(DeviceSpec.Nic.class)).singleElement()
                .satisfies(n -> assertThat(n.backend()).isInstanceOf(DeviceSpec.UserNet.class));
        assertThat(spec.devices(DeviceSpec.Tpm.class)).singleElement().satisfies(t -> {
            assertThat(t.model()).isEqualTo(DeviceSpec.TpmModel.TPM_TIS);
            assertThat(t.backend()).isEqualTo(new DeviceSpec.Swtpm(null));
        });
        assertThat(written.parsed().devices()).hasSameSizeAs(spec.devices());
    }

    @Test
    void write_keepsAnExistingDiskAsItIs() throws Exception {
        Path disk = existingDisk("demo1");

        GuestSpecs.Written written = specs.write(guest, "demo1", dir, "64M", 256);

        assertThat(written.diskCreated()).isFalse();
        assertThat(written.disk()).isEqualTo(disk);
        assertThat(Files.readString(disk)).isEqualTo("records");
    }

    @Test
    void write_replacesAnOlderSpecOfTheSameName() throws Exception {
        existingDisk("demo1");
        Files.writeString(GuestSpecs.specFile(dir, "demo1"), "name: old\n");

        specs.write(guest, "demo1", dir, "64M", 128);

        assertThat(VmSpecParser.parse(Files.readString(GuestSpecs.specFile(dir, "demo1")), dir).memoryMiB()).isEqualTo(128);
    }

    @Test
    void theSpecFileSaysWhatSharedMeans() throws Exception {
        existingDisk("demo1");

        GuestSpecs.Written written = specs.write(guest, "demo1", dir, "64M", 256);

        assertThat(Files.readString(written.spec())).startsWith("#").contains("same path");
    }

    @Test
    void write_whenTheWrittenSpecDoesNotParse_removesItAndKeepsTheDiskItFound() throws Exception {
        Path disk = existingDisk("demo1");
        Files.delete(guest.kernel());

        assertThatThrownBy(() -> specs.write(guest, "demo1", dir, "64M", 256))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("kernel").hasMessageContaining("does not exist");

        assertThat(GuestSpecs.specFile(dir, "demo1")).doesNotExist();
        assertThat(disk).exists();
    }

    @Test
    void check_refusesANameTheParserWouldRefuse() {
        assertThatThrownBy(() -> GuestSpecs.check("Web_1", "64M", 256))
                .isInstanceOf(SpecException.class)
                .hasMessageStartingWith("name: ");
    }

    @Test
    void check_refusesTooLittleMemory() {
        assertThatThrownBy(() -> GuestSpecs.check("web1", "64M", 0))
                .isInstanceOf(SpecException.class)
                .hasMessageStartingWith("memoryMiB: ");
    }

    @Test
    void check_refusesASizeQemuImgWouldNotRead() {
        assertThatThrownBy(() -> GuestSpecs.check("web1", "64MB", 256))
                .isInstanceOf(SpecException.class)
                .hasMessageContaining("'64MB' is not a size");
        assertThatThrownBy(() -> GuestSpecs.check("web1", "0", 256)).isInstanceOf(SpecException.class);
    }

    @Test
    void write_withABadName_createsNothing() {
        assertThatThrownBy(() -> specs.write(guest, "Web_1", dir, "64M", 256)).isInstanceOf(SpecException.class);

        assertThat(dir).doesNotExist();
    }
}
