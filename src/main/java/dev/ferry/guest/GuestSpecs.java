package dev.ferry.guest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.vm.HostFacts;
import dev.ferry.vm.SpecException;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmSpecParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * Writes the spec of a VM that boots the test guest: direct kernel boot from a {@link GuestArtifacts},
 * a qcow2 data disk for the guest's records, a user-mode NIC and an swtpm vTPM (tpm-tis), which is
 * every kind of device a migration of the test guest exercises.
 *
 * <p>The data disk is marked {@code shared}: both ends of a migration see the image at the same path
 * (true for two agents on one machine, or a network file system), so QEMU hands it over instead of
 * copying it. Everything is checked before the first file is touched, and the written spec is parsed
 * back before success is reported; a failure removes what this call created.
 */
public final class GuestSpecs {
    public static final String DEFAULT_DISK_SIZE = "64M";
    public static final int DEFAULT_MEMORY_MIB = 256;

    private static final Pattern DISK_SIZE = Pattern.compile("[1-9][0-9]{0,12}[KMGT]?");
    private static final Duration QEMU_IMG_TIMEOUT = Duration.ofSeconds(60);
    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .build());
    /** Stands in for the kit's files while the arguments are checked, before the kit is built. */
    private static final GuestArtifacts PLACEHOLDER = new GuestArtifacts(Path.of("/vmlinuz"), Path.of("/initramfs"),
            "unknown", GuestKit.KERNEL_CMDLINE);

    /**
     * What {@link #write} did.
     *
     * @param spec        the spec file, {@code DIR/NAME.yaml}
     * @param disk        the data disk, {@code DIR/NAME-data.qcow2}
     * @param diskCreated false when the disk existed already and was kept as it was
     * @param parsed      the spec as {@link VmSpecParser} reads it from the file
     */
    public record Written(Path spec, Path disk, boolean diskCreated, VmSpec parsed) {}

    private final ProcessRunner runner;

    public GuestSpecs(ProcessRunner runner) {
        this.runner = runner;
    }

    /** The spec file {@link #write} writes for {@code name} in {@code dir}. */
    public static Path specFile(Path dir, String name) {
        return dir.resolve(name + ".yaml");
    }

    /** The data disk {@link #write} creates for {@code name} in {@code dir}. */
    public static Path diskFile(Path dir, String name) {
        return dir.resolve(name + "-data.qcow2");
    }

    /**
     * Checks the VM name, disk size and memory without touching anything, so that a typo fails
     * before the (slow, first time) guest build.
     */
    public static void check(String name, String diskSize, int memoryMiB) throws SpecException {
        if (diskSize == null || !DISK_SIZE.matcher(diskSize).matches()) {
            throw new SpecException("disk size", "'" + diskSize + "' is not a size; write a number with K, M, G or T, such as "
                    + DEFAULT_DISK_SIZE);
        }
        Path root = Path.of("/");
        VmSpecParser.parse(yaml(PLACEHOLDER, name, diskFile(root, "data"), memoryMiB, false), root, assumingFilesExist());
    }

    /**
     * Creates {@code dir} if needed, the data disk unless it exists, and the spec file (replacing an
     * older one); returns once the written spec parses.
     *
     * @throws SpecException when the name, size or memory are not valid, or the written spec does not parse
     * @throws IOException   when a file cannot be written or qemu-img fails; the message says which
     */
    public Written write(GuestArtifacts guest, String name, Path dir, String diskSize, int memoryMiB)
            throws SpecException, IOException, InterruptedException {
        check(name, diskSize, memoryMiB);
        Path absolute = dir.toAbsolutePath().normalize();
        Files.createDirectories(absolute);
        Path disk = diskFile(absolute, name);
        Path spec = specFile(absolute, name);
        boolean created = !Files.exists(disk);
        if (created) {
            createDisk(disk, diskSize);
        }
        boolean ok = false;
        try {
            Files.writeString(spec, header(name) + yaml(guest, name, disk, memoryMiB, withoutDirectIo(absolute)));
            VmSpec parsed = VmSpecParser.parse(Files.readString(spec), absolute);
            ok = true;
            return new Written(spec, disk, created, parsed);
        } finally {
            if (!ok) {
                Files.deleteIfExists(spec);
                if (created) {
                    Files.deleteIfExists(disk);
                }
            }
        }
    }

    private void createDisk(Path disk, String size) throws IOException, InterruptedException {
        ProcResult r = runner.run(Command.of("qemu-img", "create", "-q", "-f", "qcow2", disk.toString(), size)
                .timeout(QEMU_IMG_TIMEOUT));
        if (!r.ok()) {
            throw new IOException("cannot create the data disk " + disk + ": " + r.describe());
        }
    }

    /** QEMU opens disks with O_DIRECT unless told otherwise, and tmpfs refuses O_DIRECT. */
    private static boolean withoutDirectIo(Path dir) {
        try {
            return "tmpfs".equals(Files.getFileStore(dir).type());
        } catch (IOException e) {
            return false;
        }
    }

    private static String header(String name) {
        return "# VM '" + name + "' booting Ferry's test guest. The data disk is shared: a migration between two\n"
                + "# agents assumes both see the image at this same path (one machine, or a network file system).\n";
    }

    static String yaml(GuestArtifacts guest, String name, Path disk, int memoryMiB, boolean writeback) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        ObjectNode root = f.objectNode();
        root.put("name", name);
        root.put("memoryMiB", memoryMiB);
        root.put("vcpus", 1);
        root.put("kernel", guest.kernel().toString());
        root.put("initrd", guest.initramfs().toString());
        root.put("cmdline", guest.kernelCmdline());
        ArrayNode devices = root.putArray("devices");
        devices.addObject().put("type", "disk").put("id", "data0").put("path", disk.toString())
                .put("format", "qcow2").put("shared", true).put("cache", writeback ? "writeback" : "none");
        devices.addObject().put("type", "nic").put("id", "net0").put("backend", "user");
        devices.addObject().put("type", "tpm").put("id", "tpm0").put("model", "tpm-tis").put("backend", "swtpm");
        try {
            return YAML.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("vm '" + name + "': cannot write its spec as YAML", e);
        }
    }

    private static HostFacts assumingFilesExist() {
        HostFacts system = HostFacts.system();
        return new HostFacts() {
            @Override
            public boolean exists(Path path) {
                return true;
            }

            @Override
            public boolean isBlockDevice(Path path) {
                return false;
            }

            @Override
            public boolean bridgeExists(String bridge) {
                return system.bridgeExists(bridge);
            }

            @Override
            public int cpuCount() {
                return system.cpuCount();
            }
        };
    }
}
