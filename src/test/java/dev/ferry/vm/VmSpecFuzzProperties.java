package dev.ferry.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Documents that are only roughly YAML (random lines built from YAML's own syntax: keys, block and
 * flow collections, anchors, aliases, tags, merge keys, directives, document markers, tabs, deep
 * nesting) and line-level mutations of a valid spec. The parser either returns a spec or throws a
 * {@link SpecException} naming a field; any other exception or error is a bug.
 */
class VmSpecFuzzProperties {
    private static final FakeHostFacts HOST = new FakeHostFacts();
    private static Path dir;

    @BeforeContainer
    static void files() throws IOException {
        dir = Files.createTempDirectory("spec-fuzz");
        for (String f : List.of("data.qcow2", "bzImage", "initrd.img", "tpm.key")) {
            Files.writeString(dir.resolve(f), "x");
        }
        HOST.bridges.add("br0");
    }

    @AfterContainer
    static void removeFiles() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Property(tries = 600)
    void aRandomYamlishDocument_parsesOrNamesAField(@ForAll("documents") String yaml) {
        assertParsesOrNamesAField(yaml);
    }

    @Property(tries = 400)
    void aValidSpecWithLinesMutated_parsesOrNamesAField(@ForAll("mutations") List<Mutation> mutations) {
        List<String> lines = new ArrayList<>(VmSpecParserTest.FULL.lines().toList());
        mutations.forEach(m -> m.apply(lines));
        assertParsesOrNamesAField(String.join("\n", lines));
    }

    @Property(tries = 30)
    void hostileYamlFeatures_parseOrNameAField(@ForAll("attacks") String yaml) {
        assertParsesOrNamesAField(yaml);
    }

    @Property(tries = 12)
    void deepNesting_parsesOrNamesAField(@ForAll @IntRange(min = 200, max = 5_000) int depth, @ForAll boolean flow) {
        String yaml = flow
                ? "name: web1\nmemoryMiB: 256\ndevices: " + "[".repeat(depth) + "]".repeat(depth)
                : "name: web1\nmemoryMiB: 256\ndevices:\n" + nestedBlock(Math.min(depth, 1000));
        assertParsesOrNamesAField(yaml);
    }

    private static void assertParsesOrNamesAField(String yaml) {
        try {
            VmSpec spec = VmSpecParser.parse(yaml, dir, HOST);
            assertThat(spec).isNotNull();
            assertThat(spec.name()).matches("[a-z0-9][a-z0-9-]{0,62}");
        } catch (SpecException e) {
            assertThat(e.field()).as("field of: %s", e.getMessage()).isNotBlank();
            assertThat(e.getMessage()).as("message").isNotBlank();
        } catch (Throwable t) {
            fail("the parser threw " + t + " instead of a SpecException for:\n" + abbreviate(yaml), t);
        }
    }

    @Provide
    Arbitrary<String> documents() {
        return line().list().ofMaxSize(25).map(l -> String.join("\n", l));
    }

    private Arbitrary<String> line() {
        Arbitrary<String> indent = Arbitraries.of("", "", "  ", "    ", "\t", " ", "      ");
        Arbitrary<String> body = Arbitraries.oneOf(
                Combinators.combine(key(), scalar()).as((k, v) -> k + ": " + v),
                key().map(k -> k + ":"),
                scalar().map(v -> "- " + v),
                Combinators.combine(key(), scalar()).as((k, v) -> "- {" + k + ": " + v + "}"),
                Combinators.combine(key(), scalar(), scalar()).as((k, a, b) -> k + ": [" + a + ", " + b + "]"),
                Combinators.combine(key(), anchorName()).as((k, a) -> k + ": &" + a + " {x: 1}"),
                Combinators.combine(key(), anchorName()).as((k, a) -> k + ": *" + a),
                anchorName().map(a -> "<<: *" + a),
                Arbitraries.of("---", "...", "%YAML 1.2", "%TAG ! tag:x,2024:", "# comment", "? complex", ": value", "|", ">-",
                        "- - - x", "{", "}", "[", "]", "- ", ":", "\"unterminated", "'also", "&", "*", "!", "@", "`"),
                Arbitraries.strings().ofMaxLength(30));
        return Combinators.combine(indent, body).as(String::concat);
    }

    private Arbitrary<String> key() {
        return Arbitraries.oneOf(
                Arbitraries.of("name", "uuid", "memoryMiB", "vcpus", "machine", "kernel", "initrd", "cmdline", "devices",
                        "type", "id", "path", "format", "shared", "backend", "bridge", "host", "model", "migration", "kind",
                        "params", "socket", "listen", "mac", "encryptionKeyFile", "bus", "cache"),
                Arbitraries.of("\"quoted key\"", "'k'", "? k", "!!str name", "1", "null", "~", "true", "ключ", "a b", "-x"),
                Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(8));
    }

    private Arbitrary<String> scalar() {
        return Arbitraries.oneOf(
                Arbitraries.integers().map(String::valueOf),
                Arbitraries.of("99999999999999999999999999", "-1", "0x1F", "0o17", "1e309", "-.inf", ".nan", "1_000",
                        "12:34:56", "52:54:00:12:34:56", "0000:03:00.0", "2024-01-01", "yes", "no", "on", "off", "~", "null",
                        "true", "false", "\"\"", "''", "\"\\u0000\"", "\"\\x41\"", "web1", "disk", "nic", "tpm", "usb",
                        "pci", "external", "swtpm", "user", "tap", "socket", "qcow2", "raw", "shared", "br0",
                        "data.qcow2", "bzImage", "/nonexistent", "../../etc/passwd", "!!binary aGVsbG8=", "!!int x",
                        "!!float y", "!!map {}", "!!seq []", "!custom z", "!!python/object:os.system x",
                        "!!javax.script.ScriptEngineManager [!!java.net.URLClassLoader [[!!java.net.URL [\"http://x\"]]]]",
                        "{}", "[]", "{a: [b, {c: d}]}", "[1, [2, [3]]]", "|\n  block", ">\n  folded", "'it''s'",
                        "\"tab\\there\"", "$(reboot)", "'; DROP TABLE vms;--", "ünïcødé 漢字 🚀"),
                Arbitraries.strings().ofMaxLength(20));
    }

    private Arbitrary<String> anchorName() {
        return Arbitraries.of("a", "b", "base", "x");
    }

    @Provide
    Arbitrary<List<Mutation>> mutations() {
        Arbitrary<Mutation> one = Combinators.combine(Arbitraries.integers().between(0, 5), Arbitraries.integers().between(0, 1000),
                Arbitraries.integers().between(0, 1000), line()).as(Mutation::new);
        return one.list().ofMinSize(1).ofMaxSize(4);
    }

    /** One line-level change: 0 delete, 1 duplicate, 2 swap, 3 insert a random line, 4 re-indent, 5 truncate. */
    record Mutation(int kind, int at, int other, String text) {
        void apply(List<String> lines) {
            if (lines.isEmpty()) {
                lines.add(text);
                return;
            }
            int i = at % lines.size();
            int j = other % lines.size();
            switch (kind) {
                case 0 -> lines.remove(i);
                case 1 -> lines.add(i, lines.get(i));
                case 2 -> {
                    String t = lines.get(i);
                    lines.set(i, lines.get(j));
                    lines.set(j, t);
                }
                case 3 -> lines.add(i, text);
                case 4 -> lines.set(i, " ".repeat(other % 7) + lines.get(i).strip());
                case 5 -> lines.set(i, lines.get(i).substring(0, other % (lines.get(i).length() + 1)));
                default -> throw new IllegalStateException("Invalid mutation kind: " + kind);
            }
        }
    }

    @Provide
    Arbitrary<String> attacks() {
        String laughs = "name: web1\nmemoryMiB: 256\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
                + "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                + "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n";
        return Arbitraries.of(
                laughs,
                "name: &n web1\nmemoryMiB: 256\nmachine: *n\n",
                "base: &b {type: nic, id: n0, backend: user}\nname: web1\nmemoryMiB: 256\ndevices:\n  - <<: *b\n    id: n1\n",
                "name: web1\nmemoryMiB: 256\ndevices: &d [*d]\n",
                "name: web1\nmemoryMiB: !!binary aGVsbG8=\n",
                "name: !!python/object/apply:os.system [\"reboot\"]\nmemoryMiB: 256\n",
                "!!javax.script.ScriptEngineManager [!!java.net.URLClassLoader [[!!java.net.URL [\"http://127.0.0.1/\"]]]]\n",
                "name: web1\nmemoryMiB: 256\n---\nname: web2\nmemoryMiB: 256\n",
                "name: web1\nname: web2\nmemoryMiB: 256\n",
                "name: web1\nmemoryMiB: 256\ncmdline: \"" + "x".repeat(50_000) + "\"\n",
                "name: " + "a".repeat(20_000) + "\nmemoryMiB: 256\n",
                "name: web1\nmemoryMiB: 256\ndevices:\n" + "  - {type: nic, id: n, backend: user}\n".repeat(500),
                "\uFEFFname: web1\nmemoryMiB: 256\n",
                "name: web1\u0000\nmemoryMiB: 256\n",
                "name: \"web1\\u0000\"\nmemoryMiB: 256\n",
                "name: web1\nmemoryMiB: 256\nkernel: \"bzImage\\u0000/etc/passwd\"\n",
                "name: web1\nmemoryMiB: 256\nkernel: \"\\ud800\"\n",
                "? [a, b]\n: c\nname: web1\nmemoryMiB: 256\n",
                "{name: web1, memoryMiB: 256, devices: [{type: disk, id: d, path: data.qcow2, shared: yes}]}",
                "[name, web1]",
                "\"just a string\"",
                "42",
                "\t\t\t",
                "");
    }

    private static String nestedBlock(int depth) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < depth; i++) {
            s.append("  ".repeat(i + 1)).append("- \n");
        }
        return s.toString();
    }

    private static String abbreviate(String s) {
        return s.length() <= 500 ? s : s.substring(0, 500) + "... (" + s.length() + " characters)";
    }
}
