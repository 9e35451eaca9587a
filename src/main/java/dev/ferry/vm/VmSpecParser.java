package dev.ferry.vm;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Parses and validates VM specs written in YAML. The YAML is read into a tree and then walked key
 * by key ({@link SpecNode}), rather than bound to classes, so that every problem (an unknown key at
 * any level, a value of the wrong type, a missing file) becomes one {@link SpecException} that
 * names the field path and the fix, and nothing else escapes.
 */
public final class VmSpecParser {
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");
    private static final Pattern MACHINE = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    private static final List<String> ROOT_KEYS = List.of(
            "name", "uuid", "memoryMiB", "vcpus", "machine", "kernel", "initrd", "cmdline", "devices");
    static final int MIN_MEMORY_MIB = 16;
    static final int MAX_MEMORY_MIB = 1_048_576;
    static final int MAX_VCPUS = 64;

    private static final ObjectMapper YAML = new ObjectMapper(YAMLFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build());

    private VmSpecParser() {}

    /** Parses {@code yaml}; relative paths resolve against {@code baseDir}. Errors name the field and the fix. */
    public static VmSpec parse(String yaml, Path baseDir) throws SpecException {
        return parse(yaml, baseDir, HostFacts.system());
    }

    /** As {@link #parse(String, Path)}, asking {@code host} whether files, bridges and CPUs exist. */
    public static VmSpec parse(String yaml, Path baseDir, HostFacts host) throws SpecException {
        SpecNode root = new SpecNode(readTree(yaml), "", "a VM spec", ROOT_KEYS);
        String name = root.requiredText("name", "give the VM a name such as web1");
        root.matching("name", null, NAME, "use 1 to 63 of a-z, 0-9 and '-', starting with a letter or digit");
        UUID uuid = uuid(root);
        if (!root.has("memoryMiB")) {
            throw new SpecException("memoryMiB", "missing; give the guest's memory in MiB, such as 256");
        }
        int memory = root.integer("memoryMiB", 0, MIN_MEMORY_MIB, MAX_MEMORY_MIB);
        int vcpus = root.integer("vcpus", 1, 1, MAX_VCPUS);
        if (vcpus > host.cpuCount()) {
            throw new SpecException("vcpus", vcpus + " is more than this host's " + host.cpuCount() + " CPUs; lower it");
        }
        String machine = root.matching("machine", VmSpec.DEFAULT_MACHINE, MACHINE, "give a QEMU machine type such as q35");
        VmSpec.KernelBoot boot = kernelBoot(root, baseDir, host);
        List<DeviceSpec> devices = devices(root, new DeviceParser(baseDir, host, name, uuid));
        return new VmSpec(name, uuid, memory, vcpus, machine, boot, devices);
    }

    private static JsonNode readTree(String yaml) throws SpecException {
        JsonNode tree;
        try {
            tree = YAML.readTree(yaml);
        } catch (JacksonException e) {
            JsonLocation at = e.getLocation();
            String where = at == null || at.getLineNr() < 0 ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            // YAML 1.1 reads 52:54:00:12:34:56 as a base-60 number; the fix is quoting, not syntax.
            String fix = e.getOriginalMessage().contains("numeric value") ? "quote the value" : "fix the syntax";
            throw new SpecException("spec", "not valid YAML" + where + ": " + e.getOriginalMessage() + "; " + fix);
        }
        if (tree == null || tree.isMissingNode() || tree.isNull()) {
            throw new SpecException("spec", "empty; write a mapping with at least name and memoryMiB");
        }
        return tree;
    }

    private static UUID uuid(SpecNode root) throws SpecException {
        String s = root.text("uuid", null);
        if (s == null) {
            return UUID.randomUUID();
        }
        try {
            UUID uuid = UUID.fromString(s);
            if (!uuid.toString().equalsIgnoreCase(s)) {
                throw new IllegalArgumentException("not in canonical form");
            }
            return uuid;
        } catch (IllegalArgumentException e) {
            throw new SpecException("uuid", "'" + s + "' is not a UUID; write 8-4-4-4-12 hex digits, or leave it out to have one generated");
        }
    }

    private static VmSpec.KernelBoot kernelBoot(SpecNode root, Path baseDir, HostFacts host) throws SpecException {
        Path kernel = root.path("kernel", baseDir);
        Path initrd = root.path("initrd", baseDir);
        String cmdline = root.text("cmdline", null);
        if (kernel == null) {
            if (initrd != null || cmdline != null) {
                throw new SpecException(initrd != null ? "initrd" : "cmdline", "needs kernel; add kernel or remove it");
            }
            return null;
        }
        existing(host, "kernel", kernel);
        if (initrd != null) {
            existing(host, "initrd", initrd);
            // QEMU's x86 loader reads commas in -initrd as a list of files.
            DeviceParser.noComma(root, "initrd", initrd, "QEMU");
        }
        return new VmSpec.KernelBoot(kernel, initrd, cmdline);
    }

    private static void existing(HostFacts host, String field, Path path) throws SpecException {
        if (!host.exists(path)) {
            throw new SpecException(field, path + " does not exist; fix the path");
        }
    }

    private static List<DeviceSpec> devices(SpecNode root, DeviceParser parser) throws SpecException {
        List<DeviceSpec> devices = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        Integer tpmAt = null;
        List<JsonNode> raw = root.list("devices");
        for (int i = 0; i < raw.size(); i++) {
            String path = "devices[" + i + "]";
            DeviceSpec d = parser.parse(raw.get(i), path);
            Integer first = seen.putIfAbsent(d.id(), i);
            if (first != null) {
                throw new SpecException(path + ".id", "duplicate id '" + d.id() + "' (also devices[" + first
                        + "]); give each device a unique id");
            }
            if (d instanceof DeviceSpec.Tpm) {
                if (tpmAt != null) {
                    throw new SpecException(path, "a VM has at most one tpm (also devices[" + tpmAt + "]); remove one");
                }
                tpmAt = i;
            }
            devices.add(d);
        }
        return devices;
    }
}
