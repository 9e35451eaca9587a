package dev.ferry.agent;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.ferry.vm.SpecException;
import dev.ferry.vm.VmSpec;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import java.util.Set;

/**
 * Stands in for the spec parser where tests need no files on disk: accepts {@code name} and a few keys, and
 * rejects any other key with a {@link SpecException} naming it, as the real one does.
 */
public final class FakeSpecs implements SpecReader {
    /** A few keys of our own, plus those of a normalized spec ({@code VmSpec.toYaml()}), which the agent stores. */
    private static final Set<String> KNOWN = Set.of("name", "memory", "vcpus", "disks", "uuid", "memoryMiB",
            "machine", "devices");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    @Override
    public VmSpec read(String yaml, Path baseDir) throws SpecException {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (JsonProcessingException e) {
            throw new SpecException("spec", "not valid YAML: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new SpecException("spec", "must be a mapping with at least name");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!KNOWN.contains(key)) {
                throw new SpecException(key, "unknown key; known keys are " + KNOWN);
            }
        }
        if (!root.hasNonNull("name")) {
            throw new SpecException("name", "missing; give the VM a name");
        }
        return spec(root.get("name").asText());
    }

    /** A minimal valid spec: 64 MiB, one vCPU, no devices, a uuid derived from the name. */
    public static VmSpec spec(String name) {
        return new VmSpec(name, UUID.nameUUIDFromBytes(name.getBytes(StandardCharsets.UTF_8)), 64, 1,
                VmSpec.DEFAULT_MACHINE, null, List.of());
    }
}
