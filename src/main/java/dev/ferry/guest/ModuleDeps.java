package dev.ferry.guest;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Kernel module names and the order to load them in. The guest's busybox {@code insmod} does not
 * resolve dependencies, so the kit must hand it a list where every module follows the modules it
 * needs.
 */
final class ModuleDeps {
    private ModuleDeps() {}

    /** One line of modules.dep: a module's file (relative to the modules directory) and what it needs. */
    record Entry(String path, List<String> needs) {
        Entry {
            needs = List.copyOf(needs);
        }
    }

    /**
     * The module name the kernel uses for a file: basename without {@code .ko} and any compression
     * suffix, with dashes as underscores ({@code virtio-rng.ko.xz} is {@code virtio_rng}).
     */
    static String nameOf(String path) {
        String base = path.substring(path.lastIndexOf('/') + 1);
        int ko = base.indexOf(".ko");
        if (ko <= 0) {
            throw new IllegalArgumentException("not a kernel module file name: " + path);
        }
        return base.substring(0, ko).replace('-', '_');
    }

    /**
     * Parses depmod's modules.dep ({@code kernel/a/x.ko: kernel/b/y.ko kernel/c/z.ko}) into entries
     * keyed by module name, the needs given as module names.
     */
    static Map<String, Entry> parse(String modulesDep) {
        Map<String, Entry> entries = new LinkedHashMap<>();
        int lineNumber = 0;
        for (String line : modulesDep.split("\n")) {
            lineNumber++;
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("modules.dep line " + lineNumber + " has no 'module:' prefix: " + line);
            }
            String path = line.substring(0, colon).strip();
            List<String> needs = new ArrayList<>();
            for (String dependency : line.substring(colon + 1).strip().split("\\s+")) {
                if (!dependency.isEmpty()) {
                    needs.add(nameOf(dependency));
                }
            }
            entries.put(nameOf(path), new Entry(path, needs));
        }
        return entries;
    }

    /** The names in a {@code .modinfo} {@code depends=} value ({@code "virtio_ring,virtio"}). */
    static List<String> parseDepends(String value) {
        return Arrays.stream(value.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    /**
     * Every module that {@code roots} need, each after its own needs, roots in the order given.
     *
     * @param needsOf a module's direct needs; may throw for an unknown module
     * @throws IllegalArgumentException when the modules need each other in a cycle
     */
    static List<String> loadOrder(List<String> roots, Function<String, List<String>> needsOf) {
        List<String> order = new ArrayList<>();
        Set<String> done = new HashSet<>();
        for (String root : roots) {
            visit(root, needsOf, done, new ArrayList<>(), order);
        }
        return List.copyOf(order);
    }

    private static void visit(String module, Function<String, List<String>> needsOf, Set<String> done,
            List<String> path, List<String> order) {
        if (done.contains(module)) {
            return;
        }
        if (path.contains(module)) {
            List<String> cycle = new ArrayList<>(path.subList(path.indexOf(module), path.size()));
            cycle.add(module);
            throw new IllegalArgumentException("kernel modules depend on each other in a cycle: " + String.join(" -> ", cycle));
        }
        path.add(module);
        for (String need : needsOf.apply(module)) {
            visit(need, needsOf, done, path, order);
        }
        path.remove(path.size() - 1);
        done.add(module);
        order.add(module);
    }
}
