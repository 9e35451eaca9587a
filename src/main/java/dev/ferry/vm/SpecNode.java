package dev.ferry.vm;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * One YAML mapping of a spec, read key by key. Every accessor checks the value's type and range and
 * throws a {@link SpecException} naming the full field path ({@code devices[1].host.vendor}); the
 * constructor rejects keys outside {@code allowed} and lists the allowed ones. Explicit nulls count
 * as absent.
 */
final class SpecNode {
    private final JsonNode node;
    private final String path;

    SpecNode(JsonNode node, String path, String what, List<String> allowed) throws SpecException {
        if (node == null || !node.isObject()) {
            throw new SpecException(path.isEmpty() ? "spec" : path, "expected a mapping (key: value lines) for " + what + ", got " + kind(node));
        }
        this.node = node;
        this.path = path;
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String key = names.next();
            if (!allowed.contains(key)) {
                throw new SpecException(child(key), "unknown key '" + key + "' for " + what
                        + "; allowed keys: " + String.join(", ", allowed));
            }
        }
    }

    String path() {
        return path;
    }

    String child(String key) {
        String k = key.isEmpty() ? "''" : key;
        return path.isEmpty() ? k : path + "." + k;
    }

    boolean has(String key) {
        JsonNode v = node.get(key);
        return v != null && !v.isNull();
    }

    JsonNode raw(String key) {
        return node.get(key);
    }

    String requiredText(String key, String hint) throws SpecException {
        if (!has(key)) {
            throw new SpecException(child(key), "missing; " + hint);
        }
        return text(key, null);
    }

    String text(String key, String fallback) throws SpecException {
        if (!has(key)) {
            return fallback;
        }
        JsonNode v = node.get(key);
        if (!v.isTextual()) {
            throw new SpecException(child(key), "expected text, got " + kind(v) + "; quote the value");
        }
        return v.textValue();
    }

    String matching(String key, String fallback, Pattern pattern, String rule) throws SpecException {
        String s = text(key, fallback);
        if (s != null && !pattern.matcher(s).matches()) {
            throw new SpecException(child(key), "'" + s + "' is not valid; " + rule);
        }
        return s;
    }

    int integer(String key, int fallback, int min, int max) throws SpecException {
        if (!has(key)) {
            return fallback;
        }
        JsonNode v = node.get(key);
        if (!v.isIntegralNumber()) {
            throw new SpecException(child(key), "expected a whole number, got " + kind(v));
        }
        if (!v.canConvertToLong() || v.longValue() < min || v.longValue() > max) {
            throw new SpecException(child(key), v.asText() + " is out of range; use " + min + ".." + max);
        }
        return v.intValue();
    }

    boolean bool(String key, boolean fallback) throws SpecException {
        if (!has(key)) {
            return fallback;
        }
        JsonNode v = node.get(key);
        if (!v.isBoolean()) {
            throw new SpecException(child(key), "expected true or false, got " + kind(v));
        }
        return v.booleanValue();
    }

    <E extends Enum<E> & DeviceSpec.Wire> E choice(String key, Class<E> type, E fallback) throws SpecException {
        String s = text(key, null);
        if (s == null) {
            if (fallback == null) {
                throw new SpecException(child(key), "missing; use one of " + choices(type));
            }
            return fallback;
        }
        for (E e : type.getEnumConstants()) {
            if (e.wire().equals(s)) {
                return e;
            }
        }
        throw new SpecException(child(key), "'" + s + "' is not one of " + choices(type));
    }

    /** A path resolved against {@code baseDir}; not checked for existence here. */
    Path path(String key, Path baseDir) throws SpecException {
        String s = text(key, null);
        if (s == null) {
            return null;
        }
        if (s.isBlank()) {
            throw new SpecException(child(key), "empty path; give a file name");
        }
        try {
            return baseDir.resolve(s).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw new SpecException(child(key), "'" + s + "' is not a valid path: " + e.getReason());
        }
    }

    SpecNode object(String key, String what, List<String> allowed) throws SpecException {
        return new SpecNode(node.get(key), child(key), what, allowed);
    }

    /** The elements of a list, or an empty list when the key is absent. */
    List<JsonNode> list(String key) throws SpecException {
        if (!has(key)) {
            return List.of();
        }
        JsonNode v = node.get(key);
        if (!v.isArray()) {
            throw new SpecException(child(key), "expected a list (lines starting with '- '), got " + kind(v));
        }
        List<JsonNode> out = new ArrayList<>();
        v.elements().forEachRemaining(out::add);
        return out;
    }

    /** A mapping of names to scalars (numbers and booleans are kept as their text). */
    Map<String, String> scalarMap(String key) throws SpecException {
        Map<String, String> out = new LinkedHashMap<>();
        if (!has(key)) {
            return out;
        }
        JsonNode v = node.get(key);
        if (!v.isObject()) {
            throw new SpecException(child(key), "expected a mapping of names to values, got " + kind(v));
        }
        for (Map.Entry<String, JsonNode> e : v.properties()) {
            if (!e.getValue().isValueNode() || e.getValue().isNull()) {
                throw new SpecException(child(key) + "." + e.getKey(),
                        "expected a text, number or boolean value, got " + kind(e.getValue()));
            }
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }

    static <E extends Enum<E> & DeviceSpec.Wire> String choices(Class<E> type) {
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            names.add(e.wire());
        }
        return String.join(", ", names);
    }

    static String kind(JsonNode v) {
        if (v == null || v.isMissingNode()) {
            return "nothing";
        }
        return switch (v.getNodeType()) {
            case ARRAY -> "a list";
            case OBJECT -> "a mapping";
            case BOOLEAN -> "a boolean (" + v.asText() + ")";
            case NUMBER -> "a number (" + v.asText() + ")";
            case STRING -> "text ('" + v.textValue() + "')";
            case NULL -> "null";
            default -> "a " + v.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + " value";
        };
    }
}
