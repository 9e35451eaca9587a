package dev.ferry.migration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.ferry.vm.HostFacts;
import dev.ferry.vm.SpecException;
import dev.ferry.vm.VmSpec;
import dev.ferry.vm.VmSpecParser;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where the destination puts the copies of a VM's local disks: {@code <images>/<vm>/<id>.<format>}
 * on its own storage, so the spec it runs differs from the source's only in those paths (and two
 * agents on one machine never share a copy).
 */
final class LocalDisks {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /** The destination's spec, and the images it creates, by device id. */
    record Planned(VmSpec spec, Map<String, Path> targets) {}

    private LocalDisks() {}

    /** Rewrites the local disks' paths to this host's images directory and parses the result. */
    static Planned plan(String sourceSpec, Path imagesRoot) throws SpecException {
        JsonNode root;
        try {
            root = YAML.readTree(sourceSpec);
        } catch (IOException e) {
            throw new SpecException("spec", "not valid YAML: " + e.getMessage());
        }
        Map<String, Path> targets = new LinkedHashMap<>();
        String vm = root.path("name").asText();
        for (JsonNode device : root.path("devices")) {
            if (device.path("type").asText().equals("disk") && !device.path("shared").asBoolean(false)) {
                String id = device.path("id").asText();
                Path target = imagesRoot.resolve(vm).resolve(id + "." + device.path("format").asText("qcow2"));
                ((ObjectNode) device).put("path", target.toString());
                targets.put(id, target);
            }
        }
        String rewritten;
        try {
            rewritten = YAML.writeValueAsString(root);
        } catch (IOException e) {
            throw new IllegalStateException("Invalid spec tree", e);
        }
        HostFacts system = HostFacts.system();
        HostFacts withTargets = new HostFacts() {
            @Override
            public boolean exists(Path path) {
                return targets.containsValue(path) || system.exists(path);
            }

            @Override
            public boolean isBlockDevice(Path path) {
                return !targets.containsValue(path) && system.isBlockDevice(path);
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
        return new Planned(VmSpecParser.parse(rewritten, Path.of("/"), withTargets), targets);
    }
}
