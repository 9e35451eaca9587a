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

    @Test
    void confine_aQcow2WhoseBackingFileIsOutside_isRefused_namingTheImageAndItsBackingFile() throws Exception {
        Path base = qemuImg("create", "-q", "-f", "raw", outside.resolve("base.raw").toString(), "1M");
        Path top = qemuImg("create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "raw", images.resolve("top.qcow2").toString());

        assertThatThrownBy(() -> SpecPaths.confine(disk(top, "qcow2"), roots))
                .isInstanceOfSatisfying(PathRefusedException.class, e -> assertThat(e.resolved()).isEqualTo(base))
                .hasMessageStartingWith("devices[0].path (the backing file of " + top + "): " + base)
                .hasMessageContaining("is outside the storage roots");
        SpecPaths.confine(disk(top, "raw"), roots);
    }

    @Test
    void confine_aBackingChainInsideTheRoots_isFollowedToItsEnd() throws Exception {
        Path base = qemuImg("create", "-q", "-f", "raw", images.resolve("base.raw").toString(), "1M");
        Path mid = qemuImg("create", "-q", "-f", "qcow2", "-b", "base.raw", "-F", "raw", images.resolve("mid.qcow2").toString());
        Path top = qemuImg("create", "-q", "-f", "qcow2", "-b", mid.toString(), "-F", "qcow2", images.resolve("top.qcow2").toString());

        SpecPaths.confine(disk(top, "qcow2"), roots);

        Files.delete(base);
        Files.createSymbolicLink(base, outside.resolve("b.qcow2"));
        assertThatThrownBy(() -> SpecPaths.confine(disk(top, "qcow2"), roots))
                .hasMessageStartingWith("devices[0].path (the backing file of " + mid + "): " + base + " (resolved: "
                        + outside.resolve("b.qcow2") + ")");
    }

    @Test
    void confine_backingNamesThatAreNoFiles_orClimbOut_orLackAFormat_areRefused() throws Exception {
        Files.writeString(outside.resolve("base.raw"), "raw");
        Path json = qemuImg("create", "-q", "-f", "qcow2", images.resolve("json.qcow2").toString(), "1M");
        qemuImg("rebase", "-q", "-u", "-b", "json:{\"driver\":\"file\",\"filename\":\"/etc/hostname\"}", "-F", "raw",
                json.toString());
        Path relative = qemuImg("create", "-q", "-f", "qcow2", images.resolve("rel.qcow2").toString(), "1M");
        qemuImg("rebase", "-q", "-u", "-b", "../elsewhere/base.raw", "-F", "raw", relative.toString());
        Path dataFile = qemuImg("create", "-q", "-f", "qcow2", "-o", "data_file=" + outside.resolve("data.raw"),
                images.resolve("data.qcow2").toString(), "1M");
        Files.writeString(images.resolve("base.raw"), "raw, not qcow2");
        Path unformatted = withBackingNameOnly(qemuImg("create", "-q", "-f", "qcow2", "-o", "compat=0.10",
                images.resolve("probe.qcow2").toString(), "1M"), "base.raw");

        assertThatThrownBy(() -> SpecPaths.confine(disk(json, "qcow2"), roots))
                .hasMessageContaining("would open through a protocol or a json: description");
        assertThatThrownBy(() -> SpecPaths.confine(disk(relative, "qcow2"), roots))
                .hasMessageContaining("(resolved: " + outside.resolve("base.raw") + ") is outside the storage roots");
        assertThatThrownBy(() -> SpecPaths.confine(disk(dataFile, "qcow2"), roots))
                .hasMessageStartingWith("devices[0].path (the data file of " + dataFile + "): ");
        assertThatThrownBy(() -> SpecPaths.confine(disk(unformatted, "qcow2"), roots))
                .hasMessageContaining("without a format, and it is no qcow2 image");
    }

    private VmSpec disk(Path image, String format) throws SpecException {
        return VmSpecParser.parse("name: web1\nmemoryMiB: 64\ndevices:\n  - {type: disk, id: d0, path: \"" + image
                + "\", format: " + format + "}\n", images);
    }

    /** Runs qemu-img; returns its last argument that names a file (the image it made or changed). */
    private static Path qemuImg(String... args) throws Exception {
        dev.ferry.proc.ProcResult r = new dev.ferry.proc.ProcessRunner().run(dev.ferry.proc.Command.of(
                java.util.stream.Stream.concat(java.util.stream.Stream.of("qemu-img"), java.util.Arrays.stream(args)).toList())
                .timeout(java.time.Duration.ofSeconds(30)));
        assertThat(r.ok()).as(r.describe()).isTrue();
        for (int i = args.length - 1; i >= 0; i--) {
            if (args[i].startsWith("/")) {
                return Path.of(args[i]);
            }
        }
        throw new IllegalArgumentException("no file among " + List.of(args));
    }

    /**
     * A version 2 qcow2 image given a backing file name and no format, as images made before QEMU
     * required the format are; today's qemu-img refuses to write one.
     */
    private static Path withBackingNameOnly(Path image, String name) throws Exception {
        byte[] bytes = name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(image, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(bytes), 1024);
            java.nio.ByteBuffer fields = java.nio.ByteBuffer.allocate(12).putLong(1024).putInt(bytes.length).flip();
            ch.write(fields, 8);
        }
        return image;
    }
}
