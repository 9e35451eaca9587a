package dev.ferry.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ferry.vm.QemuCommandLine.Accel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every host path of a spec held to the roots, by the spec's own field names, and resolved for QEMU. */
class SpecPathsTest {
    @TempDir
    Path dir;
    private Path images;
    private Path boot;
    private Path outside;
    private PathRoots roots;

    @BeforeEach
    void files() throws Exception {
        dir = dir.toRealPath();
        images = Files.createDirectories(dir.resolve("images"));
        boot = Files.createDirectories(dir.resolve("boot"));
        outside = Files.createDirectories(dir.resolve("elsewhere"));
        Files.writeString(images.resolve("a.qcow2"), "a");
        Files.writeString(images.resolve("tpm.key"), "key");
        Files.writeString(boot.resolve("vmlinuz"), "kernel");
        Files.writeString(boot.resolve("initrd.img"), "initrd");
        Files.writeString(outside.resolve("b.qcow2"), "b");
        roots = PathRoots.of(dir.resolve("data"), List.of(images), List.of(boot), List.of(), List.of());
    }

    private VmSpec parse(String devices) throws SpecException {
        return VmSpecParser.parse("""
                name: web1
                memoryMiB: 64
                kernel: %s
                initrd: %s
                devices:
                %s""".formatted(boot.resolve("vmlinuz"), boot.resolve("initrd.img"), devices), images);
    }

    @Test
    void confine_resolvesEveryPath_andLeavesTheRestAlone() throws Exception {
        Files.createSymbolicLink(images.resolve("current.qcow2"), Path.of("a.qcow2"));
        Files.createSymbolicLink(boot.resolve("vmlinuz-current"), Path.of("vmlinuz"));
        VmSpec spec = VmSpecParser.parse("""
                name: web1
                memoryMiB: 64
                kernel: %s
                devices:
                  - {type: nic, id: net0, backend: user}
                  - {type: disk, id: data0, path: current.qcow2, format: qcow2}
                  - {type: tpm, id: tpm0, backend: swtpm, encryptionKeyFile: tpm.key}
                """.formatted(boot.resolve("vmlinuz-current")), images);

        VmSpec confined = SpecPaths.confine(spec, roots);

        assertThat(confined.kernelBoot().kernel()).isEqualTo(boot.resolve("vmlinuz"));
        assertThat(((DeviceSpec.Disk) confined.device("data0").orElseThrow()).path()).isEqualTo(images.resolve("a.qcow2"));
        assertThat(((DeviceSpec.Swtpm) ((DeviceSpec.Tpm) confined.device("tpm0").orElseThrow()).backend()).encryptionKeyFile())
                .isEqualTo(images.resolve("tpm.key"));
        assertThat(confined.device("net0")).isEqualTo(spec.device("net0"));
        assertThat(confined.uuid()).isEqualTo(spec.uuid());
    }

    @Test
    void confine_aDiskLinkedOut_isRefusedByItsFieldInTheSpec() throws Exception {
        Files.createSymbolicLink(images.resolve("data.qcow2"), outside.resolve("b.qcow2"));
        VmSpec spec = parse("""
                  - {type: nic, id: net0, backend: user}
                  - {type: disk, id: data0, path: data.qcow2, format: qcow2}
                """);

        assertThatThrownBy(() -> SpecPaths.confine(spec, roots))
                .isInstanceOfSatisfying(PathRefusedException.class, e -> assertThat(e.field()).isEqualTo("devices[1].path"))
                .hasMessage("devices[1].path: " + images.resolve("data.qcow2") + " (resolved: " + outside.resolve("b.qcow2")
                        + ") is outside the storage roots [" + dir.resolve("data/images") + ", " + images + "]; move the"
                        + " image into one of them, or add its directory to storage in the agent configuration");
    }

    @Test
    void confine_aKernelOrKeyOutside_isRefusedByItsField() throws Exception {
        Files.writeString(outside.resolve("vmlinuz"), "kernel");
        Files.writeString(outside.resolve("tpm.key"), "key");
        VmSpec kernelOut = VmSpecParser.parse("name: web1\nmemoryMiB: 64\nkernel: " + outside.resolve("vmlinuz") + "\n", images);
        VmSpec keyOut = parse("  - {type: tpm, id: tpm0, backend: swtpm, encryptionKeyFile: " + outside.resolve("tpm.key") + "}\n");

        assertThatThrownBy(() -> SpecPaths.confine(kernelOut, roots)).hasMessageStartingWith("kernel: ")
                .hasMessageContaining("is outside the boot roots [" + boot + "] and the storage roots");
        assertThatThrownBy(() -> SpecPaths.confine(keyOut, roots)).hasMessageStartingWith("devices[0].encryptionKeyFile: ");
    }

    @Test
    void confine_anInitrdWhoseLinkTargetHasAComma_isRefused() throws Exception {
        // QEMU reads commas in -initrd as a list of files: the second one would be opened unchecked.
        Path odd = Files.createDirectories(boot.resolve("a,"));
        Files.writeString(odd.resolve("initrd.img"), "initrd");
        Files.delete(boot.resolve("initrd.img"));
        Files.createSymbolicLink(boot.resolve("initrd.img"), odd.resolve("initrd.img"));
        VmSpec spec = parse("  - {type: nic, id: net0, backend: user}\n");

        assertThatThrownBy(() -> SpecPaths.confine(spec, roots)).hasMessageStartingWith("initrd: ")
                .hasMessageContaining("contains ',' once resolved");
    }

    @Test
    void confine_anExternalTpmSocketNotThereYet_isJudgedWhereItWillBe() throws Exception {
        VmSpec inside = parse("  - {type: tpm, id: tpm0, backend: external, socket: run/tpm.sock}\n");
        VmSpec out = parse("  - {type: tpm, id: tpm0, backend: external, socket: " + outside.resolve("tpm.sock") + "}\n");

        VmSpec confined = SpecPaths.confine(inside, roots);

        assertThat(((DeviceSpec.ExternalTpm) ((DeviceSpec.Tpm) confined.device("tpm0").orElseThrow()).backend()).socket())
                .isEqualTo(images.resolve("run/tpm.sock"));
        assertThatThrownBy(() -> SpecPaths.confine(out, roots)).hasMessageStartingWith("devices[0].socket: ")
                .hasMessageContaining("is outside the storage roots");
    }

    @Test
    void check_aDiskCopyNotMadeYet_isJudgedWhereItWillBeMade() throws Exception {
        VmSpec spec = parse("  - {type: disk, id: data0, path: a.qcow2, format: qcow2}\n");
        Path data = Files.createDirectories(dir.resolve("data"));
        VmSpec copy = spec.withDisk("data0", data.resolve("images/web1/data0.qcow2"));

        SpecPaths.check(copy, roots);
        Files.createDirectories(data.resolve("images"));
        SpecPaths.check(copy, roots);
        Files.createSymbolicLink(data.resolve("images/web2"), outside);
        VmSpec planted = spec.withDisk("data0", data.resolve("images/web2/data0.qcow2"));
        assertThatThrownBy(() -> SpecPaths.confine(copy, roots)).isInstanceOfSatisfying(PathRefusedException.class,
                e -> assertThat(e.missing()).as("confine needs the copy to exist").isTrue());
        assertThatThrownBy(() -> SpecPaths.check(planted, roots))
                .hasMessageContaining("(resolved: " + outside.resolve("data0.qcow2") + ") is outside the storage roots");
    }

    @Test
    void aDiskLinkSwappedAfterTheCheck_doesNotChangeWhatQemuIsGiven() throws Exception {
        Path link = Files.createSymbolicLink(images.resolve("data.qcow2"), Path.of("a.qcow2"));
        VmSpec spec = parse("  - {type: disk, id: data0, path: data.qcow2, format: qcow2}\n");
        VmSpec confined = SpecPaths.confine(spec, roots);

        Files.delete(link);
        Files.createSymbolicLink(link, outside.resolve("b.qcow2"));
        List<String> argv = QemuCommandLine.build(Path.of("/usr/bin/qemu-system-x86_64"), confined,
                new RunDir(dir.resolve("run")), Accel.TCG, false);

        assertThat(String.join(" ", argv)).contains("\"filename\":\"" + images.resolve("a.qcow2") + "\"")
                .doesNotContain(link.toString()).doesNotContain(outside.toString())
                .contains("-kernel " + boot.resolve("vmlinuz")).contains("-initrd " + boot.resolve("initrd.img"));
    }
}
