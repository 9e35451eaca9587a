package dev.ferry.vm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** However a valid spec is damaged, the parser either accepts it or says which field is wrong. */
class VmSpecParserProperties {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static Path dir;
    private static final FakeHostFacts HOST = new FakeHostFacts();

    @BeforeContainer
    static void files() throws Exception {
        dir = Files.createTempDirectory("spec-properties");
        for (String f : List.of("data.qcow2", "bzImage", "initrd.img", "tpm.key")) {
            Files.writeString(dir.resolve(f), "x");
        }
        HOST.bridges.add("br0");
    }

    @AfterContainer
    static void removeFiles() throws Exception {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Property(tries = 400)
    void aChangedValue_parsesOrNamesAField(@ForAll @IntRange(max = 500) int target, @ForAll("values") JsonNode value) throws Exception {
        JsonNode tree = validTree();
        Slot slot = slots(tree).get(target % slots(tree).size());
        slot.set(value);
        assertParsesOrNamesAField(YAML.writeValueAsString(tree));
    }

    @Property(tries = 200)
    void aRemovedOrAddedKey_parsesOrNamesAField(@ForAll @IntRange(max = 500) int target, @ForAll boolean remove,
                                                @ForAll("keys") String key, @ForAll("values") JsonNode value) throws Exception {
        JsonNode tree = validTree();
        List<ObjectNode> objects = new ArrayList<>();
        collectObjects(tree, objects);
        ObjectNode o = objects.get(target % objects.size());
        if (remove && o.size() > 0) {
            List<String> names = new ArrayList<>();
            o.fieldNames().forEachRemaining(names::add);
            o.remove(names.get(target % names.size()));
        } else {
            o.set(key, value);
        }
        assertParsesOrNamesAField(YAML.writeValueAsString(tree));
    }

    @Property(tries = 300)
    void aDamagedText_parsesOrNamesAField(@ForAll @IntRange(max = 5000) int position, @ForAll char c, @ForAll boolean insert) {
        String yaml = VmSpecParserTest.FULL;
        int at = position % yaml.length();
        String damaged = insert ? yaml.substring(0, at) + c + yaml.substring(at) : yaml.substring(0, at) + yaml.substring(at + 1);
        assertParsesOrNamesAField(damaged);
    }

    @Provide
    Arbitrary<String> keys() {
        return Arbitraries.oneOf(Arbitraries.of("type", "id", "host", "mac", "bridge", "listen", "socket", "params", "devices", "kernel"),
                Arbitraries.strings().ofMaxLength(12));
    }

    @Provide
    Arbitrary<JsonNode> values() {
        return Arbitraries.oneOf(
                Arbitraries.longs().map(NODES::numberNode),
                Arbitraries.bigIntegers().between(BigInteger.TEN.pow(30).negate(), BigInteger.TEN.pow(30)).map(NODES::numberNode),
                Arbitraries.doubles().map(NODES::numberNode),
                Arbitraries.strings().ofMaxLength(20).map(NODES::textNode),
                Arbitraries.of("", "..", "/", "/nonexistent", "0x1234", "52:54:00:12:34:56", "0000:03:00.0", "tap", "socket",
                        "user", "swtpm", "external", "disk", "nic", "tpm", "usb", "pci", "a,b", "data.qcow2", "\u0000", "br0",
                        ":80", "h:0", "refuse", "tpm-crb", "raw").map(NODES::textNode),
                Arbitraries.of(true, false).map(NODES::booleanNode),
                Arbitraries.just(NODES.nullNode()),
                Arbitraries.just(NODES.arrayNode()),
                Arbitraries.just(NODES.objectNode()),
                Arbitraries.just(NODES.objectNode().put("bus", 1)),
                Arbitraries.just(NODES.arrayNode().add(NODES.objectNode().put("type", "nic"))));
    }

    private static void assertParsesOrNamesAField(String yaml) {
        try {
            VmSpecParser.parse(yaml, dir, HOST);
        } catch (SpecException e) {
            assertThat(e.field()).as("field of: %s", e.getMessage()).isNotEmpty();
        }
    }

    private static JsonNode validTree() throws Exception {
        return YAML.readTree(VmSpecParserTest.FULL);
    }

    /** A place in the tree whose value can be replaced. */
    private interface Slot {
        void set(JsonNode value);
    }

    private static List<Slot> slots(JsonNode tree) {
        List<Slot> out = new ArrayList<>();
        collectSlots(tree, out);
        return out;
    }

    private static void collectSlots(JsonNode n, List<Slot> out) {
        if (n instanceof ObjectNode o) {
            List<String> names = new ArrayList<>();
            o.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                out.add(v -> o.set(name, v));
                collectSlots(o.get(name), out);
            }
        } else if (n instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                int index = i;
                out.add(v -> a.set(index, v));
                collectSlots(a.get(i), out);
            }
        }
    }

    private static void collectObjects(JsonNode n, List<ObjectNode> out) {
        if (n instanceof ObjectNode o) {
            out.add(o);
        }
        n.elements().forEachRemaining(child -> collectObjects(child, out));
    }
}
