package dev.ferry.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.ferry.vm.PathRoots.Use;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The path rule against hostile paths: links out, '..', /proc, device nodes, the agent's own state. */
class PathRootsTest {
    @TempDir
    Path dir;
    private Path root;
    private Path outside;
    private Path data;
    private PathRoots roots;

    @BeforeEach
    void tree() throws IOException {
        dir = dir.toRealPath();
        root = Files.createDirectories(dir.resolve("images"));
        outside = Files.createDirectories(dir.resolve("elsewhere"));
        data = dir.resolve("data");
        Files.writeString(root.resolve("web1.qcow2"), "in");
        Files.writeString(outside.resolve("secret.img"), "out");
        roots = PathRoots.of(data, List.of(root), List.of(), List.of(root), List.of());
    }

    @Test
    void existing_aFileInsideARoot_isItsRealPath() throws Exception {
        assertThat(roots.existing(Use.DISK, "devices[0].path", root.resolve("web1.qcow2")))
                .isEqualTo(root.resolve("web1.qcow2"));
    }

    @Test
    void existing_aSymlinkOutOfARoot_isRefused_namingFieldPathResolvedPathAndRoots() throws Exception {
        Path link = Files.createSymbolicLink(root.resolve("innocent.qcow2"), outside.resolve("secret.img"));

        assertThatThrownBy(() -> roots.existing(Use.DISK, "devices[0].path", link))
                .isInstanceOfSatisfying(PathRefusedException.class, e -> {
                    assertThat(e.field()).isEqualTo("devices[0].path");
                    assertThat(e.resolved()).isEqualTo(outside.resolve("secret.img"));
                    assertThat(e.missing()).isFalse();
                    assertThat(e.getMessage()).startsWith("devices[0].path: " + link)
                            .contains("(resolved: " + outside.resolve("secret.img") + ")")
                            .contains("outside the storage roots [" + data.resolve("images") + ", " + root + "]")
                            .contains("add its directory to storage");
                });
    }

    @Test
    void existing_aDirectoryLinkOutOfARoot_isRefused() throws Exception {
        Files.createSymbolicLink(root.resolve("more"), outside);

        assertRefused(Use.DISK, root.resolve("more/secret.img"), "is outside the storage roots");
    }

    @Test
    void existing_aSymlinkToAnotherFileInsideTheRoot_isThatFile() throws Exception {
        Path link = Files.createSymbolicLink(root.resolve("current.qcow2"), Path.of("web1.qcow2"));

        assertThat(roots.existing(Use.DISK, "devices[0].path", link)).isEqualTo(root.resolve("web1.qcow2"));
    }

    @Test
    void existing_dotDotOutOfARoot_isRefused() throws Exception {
        assertRefused(Use.DISK, Path.of(root + "/../elsewhere/secret.img"), "is outside the storage roots");
        assertRefused(Use.DISK, Path.of(root + "/../../../../../../etc/passwd"), "is outside the storage roots");
    }

    @Test
    void existing_dotDotAfterALink_isResolvedAsTheKernelDoes() throws Exception {
        // 'deep/..' is the link target's parent, not the root: spelled inside, it lands outside.
        Path nested = Files.createDirectories(outside.resolve("nested"));
        Files.writeString(outside.resolve("web1.qcow2"), "out");
        Files.createSymbolicLink(root.resolve("deep"), nested);

        Path sneaky = Path.of(root + "/deep/../web1.qcow2");
        assertThat(Files.readString(sneaky)).as("the kernel opens the outside file").isEqualTo("out");
        assertRefused(Use.DISK, sneaky, "is outside the storage roots");
    }

    @Test
    void existing_procSelf_isRefused_howeverItIsReached() throws Exception {
        assertRefused(Use.DISK, Path.of("/proc/self/environ"), "is outside the storage roots");
        assertRefused(Use.BOOT, Path.of("/proc/self/root/etc/passwd"), "(resolved: /etc/passwd)");
        Files.createSymbolicLink(root.resolve("env.img"), Path.of("/proc/self/environ"));
        assertRefused(Use.DISK, root.resolve("env.img"), "is outside the storage roots");
    }

    @Test
    void existing_aCharacterDevice_isNeverADisk_evenThroughALinkInARoot() throws Exception {
        assertRefused(Use.DISK, Path.of("/dev/null"), "is a character device, not a regular file");
        Files.createSymbolicLink(root.resolve("zero.img"), Path.of("/dev/zero"));
        assertRefused(Use.DISK, root.resolve("zero.img"), "(resolved: /dev/zero) is a character device");
    }

    @Test
    void existing_aBlockDevice_isRefusedUnlessListed_evenThroughALinkInARoot() throws Exception {
        Path device = blockDevice();
        Files.createSymbolicLink(root.resolve("raw.img"), device);

        assertRefused(Use.DISK, device, "is a host block device not listed under blockDevices []");
        assertRefused(Use.DISK, root.resolve("raw.img"), "is a host block device not listed");
    }

    @Test
    void existing_aListedBlockDevice_isADisk_listedItselfOrByItsDirectory() throws Exception {
        Path device = blockDevice();
        Path byName = Files.createDirectories(dir.resolve("by-name"));
        Files.createSymbolicLink(byName.resolve("web1"), device);

        PathRoots itself = PathRoots.of(data, List.of(root), List.of(), List.of(), List.of(device));
        PathRoots byDirectory = PathRoots.of(data, List.of(root), List.of(), List.of(), List.of(byName));

        assertThat(itself.existing(Use.DISK, "devices[0].path", device)).isEqualTo(device.toRealPath());
        assertThat(byDirectory.existing(Use.DISK, "devices[0].path", byName.resolve("web1"))).isEqualTo(device.toRealPath());
        assertThatThrownBy(() -> byDirectory.existing(Use.BOOT, "kernel", device))
                .hasMessageContaining("is a block device, not a regular file");
    }

    @Test
    void existing_theAgentsOwnState_isRefused_evenInsideARoot() throws Exception {
        Files.createDirectories(data.resolve("images/web1"));
        Files.writeString(data.resolve("ferry.db"), "state");
        Files.writeString(data.resolve("images/web1/data0.qcow2"), "copy");
        PathRoots wide = PathRoots.of(data, List.of(dir), List.of(), List.of(), List.of());

        assertThatThrownBy(() -> wide.existing(Use.DISK, "devices[0].path", data.resolve("ferry.db")))
                .hasMessageContaining("is inside the agent's data directory " + data)
                .hasMessageContaining("VMs may use only " + data.resolve("images") + " and " + data.resolve("saves"));
        assertThat(wide.existing(Use.DISK, "devices[0].path", data.resolve("images/web1/data0.qcow2")))
                .isEqualTo(data.resolve("images/web1/data0.qcow2"));
    }

    @Test
    void existing_aRootIsComparedByComponents_notByPrefix() throws Exception {
        Path sibling = Files.createDirectories(dir.resolve("images-old"));
        Files.writeString(sibling.resolve("web1.qcow2"), "x");

        assertRefused(Use.DISK, sibling.resolve("web1.qcow2"), "is outside the storage roots");
    }

    @Test
    void existing_aRootThatIsALink_holdsWhatItsTargetHolds() throws Exception {
        Path linkedRoot = Files.createSymbolicLink(dir.resolve("vm"), root);
        PathRoots viaLink = PathRoots.of(data, List.of(linkedRoot), List.of(), List.of(), List.of());

        assertThat(viaLink.existing(Use.DISK, "devices[0].path", root.resolve("web1.qcow2")))
                .isEqualTo(root.resolve("web1.qcow2"));
        assertThat(viaLink.existing(Use.DISK, "devices[0].path", linkedRoot.resolve("web1.qcow2")))
                .isEqualTo(root.resolve("web1.qcow2"));
    }

    @Test
    void existing_aMissingFile_isMissing_notForbidden() {
        assertThatThrownBy(() -> roots.existing(Use.SAVE, "file", root.resolve("gone.save")))
                .isInstanceOfSatisfying(PathRefusedException.class, e -> {
                    assertThat(e.missing()).isTrue();
                    assertThat(e.getMessage()).isEqualTo("file: " + root.resolve("gone.save") + " does not exist on this host");
                });
    }

    @Test
    void existing_boot_acceptsBootAndStorageRoots_butADiskNeedsStorage() throws Exception {
        Path boot = Files.createDirectories(dir.resolve("boot"));
        Files.writeString(boot.resolve("vmlinuz"), "kernel");
        PathRoots withBoot = PathRoots.of(data, List.of(root), List.of(boot), List.of(), List.of());

        assertThat(withBoot.existing(Use.BOOT, "kernel", boot.resolve("vmlinuz"))).isEqualTo(boot.resolve("vmlinuz"));
        assertThat(withBoot.existing(Use.BOOT, "kernel", root.resolve("web1.qcow2"))).isEqualTo(root.resolve("web1.qcow2"));
        assertThatThrownBy(() -> withBoot.existing(Use.DISK, "devices[0].path", boot.resolve("vmlinuz")))
                .hasMessageContaining("is outside the storage roots");
    }

    @Test
    void existing_aDirectory_isNoFile() throws Exception {
        Files.createDirectories(root.resolve("sub"));
        assertRefused(Use.DISK, root.resolve("sub"), "is a directory, not a regular file");
    }

    @Test
    void toCreate_aNewFileInARoot_isItsRealPath_evenThroughALinkedDirectory() throws Exception {
        Path saves = Files.createDirectories(root.resolve("saves"));
        Files.createSymbolicLink(root.resolve("latest"), saves);

        assertThat(roots.toCreate(Use.SAVE, "file", root.resolve("web1.save"))).isEqualTo(root.resolve("web1.save"));
        assertThat(roots.toCreate(Use.SAVE, "file", root.resolve("latest/web1.save"))).isEqualTo(saves.resolve("web1.save"));
        assertThat(roots.toCreate(Use.DISK, "devices[0].path", root.resolve("web2/new/data0.qcow2")))
                .as("directories that do not exist yet are judged by the nearest one that does")
                .isEqualTo(root.resolve("web2/new/data0.qcow2"));
    }

    @Test
    void toCreate_throughALinkOut_orALinkInPlaceOfTheFile_isRefused() throws Exception {
        Files.createSymbolicLink(root.resolve("out"), outside);
        Files.createSymbolicLink(root.resolve("planted.save"), outside.resolve("overwritten"));
        Files.createSymbolicLink(root.resolve("dangling"), outside.resolve("not-yet"));

        assertThatThrownBy(() -> roots.toCreate(Use.SAVE, "file", root.resolve("out/web1.save")))
                .hasMessageContaining("(resolved: " + outside.resolve("web1.save") + ") is outside the saves roots");
        assertThatThrownBy(() -> roots.toCreate(Use.SAVE, "file", root.resolve("planted.save")))
                .hasMessageContaining("is a symbolic link; name a new file");
        assertThatThrownBy(() -> roots.toCreate(Use.SAVE, "file", root.resolve("dangling/web1.save")))
                .hasMessageContaining("does not exist on this host");
    }

    @Test
    void toCreate_dotDotBelowAMissingDirectory_orNoFileName_isRefused() {
        assertThatThrownBy(() -> roots.toCreate(Use.SAVE, "file", Path.of(root + "/nope/../../elsewhere/x.save")))
                .hasMessageContaining("climbs with '..' out of a directory that does not exist");
        assertThatThrownBy(() -> roots.toCreate(Use.SAVE, "file", Path.of(root + "/..")))
                .hasMessageContaining("names no file");
        assertThatThrownBy(() -> roots.toCreate(Use.SAVE, "file", Path.of(root + "/../elsewhere/x.save")))
                .hasMessageContaining("is outside the saves roots");
    }

    @Test
    void roots_alwaysHoldTheDataDirectorysImagesAndSaves() {
        PathRoots none = PathRoots.dataDirOnly(data);

        assertThat(none.storage()).containsExactly(data.resolve("images"));
        assertThat(none.saves()).containsExactly(data.resolve("saves"));
        assertThat(none.boot()).isEmpty();
        assertThat(none.blockDevices()).isEmpty();
    }

    private void assertRefused(Use use, Path path, String part) {
        assertThatThrownBy(() -> roots.existing(use, "f", path))
                .isInstanceOf(PathRefusedException.class)
                .hasMessageStartingWith("f: " + path)
                .hasMessageContaining(part);
    }

    /** Some block device of this machine (a loop device, a disk); the test is skipped on a machine without one. */
    static Path blockDevice() throws IOException {
        Optional<Path> found;
        try (Stream<Path> dev = Files.list(Path.of("/dev"))) {
            found = dev.filter(p -> HostFacts.system().isBlockDevice(p)).sorted().findFirst();
        }
        assumeTrue(found.isPresent(), "this machine has no block device in /dev");
        return found.get();
    }
}
