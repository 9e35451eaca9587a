package dev.ferry.agent.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.ferry.vm.Accelerator;
import dev.ferry.vm.PathRoots;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Turns the YAML file into an {@link AgentConfig}. Jackson binds the raw shape (rejecting unknown
 * keys); the checks that need words a person can act on are done here, one field at a time.
 */
final class ConfigLoader {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9.-]*");
    private static final Pattern TOOL_TYPE = Pattern.compile("[a-z][a-z0-9-]*");
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");
    private static final List<String> FORBIDDEN_ROOTS = List.of("/proc", "/sys", "/dev");

    private final String pathEnv;

    /** @param pathEnv the PATH used to find {@code qemu} and {@code swtpm} given by bare name */
    ConfigLoader(String pathEnv) {
        this.pathEnv = pathEnv == null ? "" : pathEnv;
    }

    record RawConfig(String host, String listen, Integer port, String dataDir, String qemu, String swtpm,
                     Map<String, RawTool> tools, Map<String, String> peers, String accel, List<String> storage,
                     List<String> boot, List<String> saves, List<String> blockDevices, RawTls tls, Boolean insecure) {}

    record RawTls(String dir) {}

    record RawTool(String path, String dialect, Map<String, String> timeouts, Boolean concurrent) {}

    AgentConfig load(Path file) throws ConfigException {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException("config", "file " + file + " does not exist; pass an existing file to --config");
        } catch (IOException e) {
            throw new ConfigException("config", "cannot read " + file + ": " + e.getMessage(), e);
        }
        Path base = file.toAbsolutePath().getParent();
        return parse(text, base);
    }

    AgentConfig parse(String yaml, Path baseDir) throws ConfigException {
        RawConfig raw = bind(yaml);
        if (raw == null) {
            throw new ConfigException("config", "the file is empty; it needs at least host and dataDir");
        }
        String host = required("host", raw.host(), "this host's name, e.g. host: node1");
        if (!NAME.matcher(host).matches()) {
            throw new ConfigException("host", "'" + host + "' is not a host name; use letters, digits, '.' and '-'");
        }
        String listen = raw.listen() == null ? AgentConfig.DEFAULT_LISTEN : raw.listen().strip();
        if (listen.isEmpty()) {
            throw new ConfigException("listen", "is empty; give an address such as 127.0.0.1 or 0.0.0.0, or leave it out");
        }
        int port = raw.port() == null ? AgentConfig.DEFAULT_PORT : raw.port();
        if (port < 0 || port > 65535) {
            throw new ConfigException("port", "must be between 0 and 65535 (0 picks a free port), was " + port);
        }
        Path dataDir = baseDir.resolve(required("dataDir", raw.dataDir(), "a directory for the agent's state, e.g. dataDir: /var/lib/ferry")).normalize();
        Path qemu = binary("qemu", raw.qemu(), "qemu-system-x86_64", baseDir, "install QEMU");
        Path swtpm = binary("swtpm", raw.swtpm(), "swtpm", baseDir, "install swtpm");
        PathRoots roots = PathRoots.of(dataDir, roots("storage", raw.storage(), baseDir),
                roots("boot", raw.boot(), baseDir), roots("saves", raw.saves(), baseDir),
                blockDevices(raw.blockDevices(), baseDir));
        Path tlsDir = tlsDir(raw.tls(), baseDir);
        boolean insecure = Boolean.TRUE.equals(raw.insecure());
        Map<String, URI> peers = peers(raw.peers(), host);
        requireSecurity(listen, tlsDir, insecure, peers);
        return new AgentConfig(host, listen, port, dataDir, qemu, swtpm,
                tools(raw.tools(), baseDir), peers, accel(raw.accel()), roots, tlsDir, insecure);
    }

    /**
     * Directories whose files VMs may use. The host's root and its kernel's views ({@code /proc},
     * {@code /sys}, {@code /dev}) are refused: as roots they would let a VM open any file or device.
     */
    private static List<Path> roots(String field, List<String> raw, Path baseDir) throws ConfigException {
        List<Path> roots = paths(field, raw, baseDir);
        for (int i = 0; i < roots.size(); i++) {
            Path p = roots.get(i);
            if (p.getNameCount() == 0) {
                throw new ConfigException(field + "[" + i + "]", "'/' would let VMs use every file of the host; name"
                        + " the directories that hold what VMs use, e.g. /var/lib/ferry/images");
            }
            for (String forbidden : FORBIDDEN_ROOTS) {
                if (p.startsWith(forbidden)) {
                    throw new ConfigException(field + "[" + i + "]", p + " is inside " + forbidden + ", which is no"
                            + " place for VM files" + (forbidden.equals("/dev")
                            ? "; list host block devices under blockDevices instead" : "; remove it"));
                }
            }
        }
        return roots;
    }

    private static List<Path> blockDevices(List<String> raw, Path baseDir) throws ConfigException {
        return paths("blockDevices", raw, baseDir);
    }

    private static List<Path> paths(String field, List<String> raw, Path baseDir) throws ConfigException {
        List<Path> paths = new ArrayList<>();
        if (raw == null) {
            return paths;
        }
        for (int i = 0; i < raw.size(); i++) {
            String s = raw.get(i);
            if (s == null || s.isBlank()) {
                throw new ConfigException(field + "[" + i + "]", "is empty; give a directory's path or remove the entry");
            }
            try {
                paths.add(baseDir.resolve(s.strip()).normalize());
            } catch (InvalidPathException e) {
                throw new ConfigException(field + "[" + i + "]", "'" + s + "' is not a path: " + e.getReason());
            }
        }
        return paths;
    }

    private static Path tlsDir(RawTls raw, Path baseDir) throws ConfigException {
        if (raw == null) {
            return null;
        }
        Path dir = baseDir.resolve(required("tls.dir", raw.dir(), "the host's certificate directory made by"
                + " 'ferry pki issue', e.g. tls: {dir: /etc/ferry/pki}")).normalize();
        if (!Files.isDirectory(dir)) {
            throw new ConfigException("tls.dir", dir + " is not a directory; make it with 'ferry pki issue HOST --ca CA"
                    + " --dns NAME --ip ADDR --out " + dir + "'");
        }
        return dir;
    }

    /**
     * An agent other hosts can reach must authenticate its callers: without {@code tls} it may only
     * listen on loopback, unless {@code insecure: true} says plain HTTP is meant. With {@code tls}
     * its peers are called over HTTPS too.
     */
    private static void requireSecurity(String listen, Path tlsDir, boolean insecure, Map<String, URI> peers)
            throws ConfigException {
        if (tlsDir != null && insecure) {
            throw new ConfigException("insecure", "is true while tls is set; remove one: tls serves HTTPS with client"
                    + " certificates, insecure: true serves plain HTTP to anyone who reaches the port");
        }
        if (tlsDir == null && !insecure && !isLoopback(listen)) {
            throw new ConfigException("listen", "'" + listen + "' is not a loopback address, and without tls anyone who"
                    + " reaches the port can define VMs and start migrations; set tls: {dir: DIR} with a directory from"
                    + " 'ferry pki issue' (docs/security.md), or insecure: true to serve plain HTTP knowingly");
        }
        if (tlsDir != null) {
            for (Map.Entry<String, URI> peer : peers.entrySet()) {
                if (!"https".equals(peer.getValue().getScheme())) {
                    throw new ConfigException("peers." + peer.getKey(), "'" + peer.getValue() + "' is plain HTTP while"
                            + " this agent uses tls; write its https:// URL (peers with tls serve HTTPS only)");
                }
            }
        }
    }

    /** Whether {@code listen} is a loopback address; a name that does not resolve counts as reachable. */
    static boolean isLoopback(String listen) {
        try {
            return InetAddress.getByName(listen).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static Accelerator accel(String value) throws ConfigException {
        if (value == null) {
            return Accelerator.AUTO;
        }
        try {
            return Accelerator.valueOf(value.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ConfigException("accel", "'" + value + "' is not an accelerator; use auto (KVM when /dev/kvm is"
                    + " usable), kvm or tcg (for a host whose /dev/kvm does not run guests)");
        }
    }

    private static RawConfig bind(String yaml) throws ConfigException {
        ObjectMapper mapper = new ObjectMapper(new YAMLFactory())
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
        try {
            return mapper.readValue(yaml, RawConfig.class);
        } catch (UnrecognizedPropertyException e) {
            String known = e.getKnownPropertyIds().stream().map(Object::toString)
                    .collect(Collectors.toCollection(TreeSet::new)).toString();
            throw new ConfigException(fieldPath(e), "unknown key '" + e.getPropertyName()
                    + "'; known keys here are " + known, e);
        } catch (JsonMappingException e) {
            throw new ConfigException(fieldPath(e), "wrong type: " + e.getOriginalMessage().lines().findFirst().orElse(""), e);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr();
            throw new ConfigException("config", "not valid YAML" + where + ": " + e.getOriginalMessage(), e);
        }
    }

    /** The dotted path Jackson was at, e.g. {@code tools.tpm.timeouts}. */
    private static String fieldPath(JsonMappingException e) {
        String path = e.getPath().stream()
                .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
                .collect(Collectors.joining(".")).replace(".[", "[");
        return path.isEmpty() ? "config" : path;
    }

    private static String required(String field, String value, String what) throws ConfigException {
        if (value == null || value.isBlank()) {
            throw new ConfigException(field, "missing; set it to " + what);
        }
        return value.strip();
    }

    private Path binary(String field, String configured, String defaultName, Path baseDir, String install)
            throws ConfigException {
        String name = configured == null ? defaultName : configured.strip();
        if (name.isEmpty()) {
            throw new ConfigException(field, "is empty; give a path or leave it out to use " + defaultName + " from PATH");
        }
        if (!name.contains("/")) {
            return onPath(name).orElseThrow(() -> new ConfigException(field,
                    "'" + name + "' not found on PATH; " + install + " or set " + field + ": /path/to/" + name));
        }
        Path p = baseDir.resolve(name).normalize();
        requireExecutable(field, p, install + " or fix the path");
        return p;
    }

    private Optional<Path> onPath(String name) {
        for (String dir : pathEnv.split(":")) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    private static void requireExecutable(String field, Path p, String fix) throws ConfigException {
        if (!Files.exists(p)) {
            throw new ConfigException(field, p + " does not exist; " + fix);
        }
        if (!Files.isRegularFile(p) || !Files.isExecutable(p)) {
            throw new ConfigException(field, p + " is not an executable file; chmod +x it or fix the path");
        }
    }

    private static Map<String, ToolConfig> tools(Map<String, RawTool> raw, Path baseDir) throws ConfigException {
        Map<String, ToolConfig> tools = new LinkedHashMap<>();
        if (raw == null) {
            return tools;
        }
        for (Map.Entry<String, RawTool> e : raw.entrySet()) {
            String type = e.getKey();
            String field = "tools." + type;
            if (!TOOL_TYPE.matcher(type).matches()) {
                throw new ConfigException(field, "'" + type + "' is not a device type; use lower-case names such as disk, tpm, nic, usb, pci");
            }
            RawTool t = e.getValue();
            if (t == null) {
                throw new ConfigException(field, "is empty; give at least path: /path/to/tool");
            }
            Path path = baseDir.resolve(required(field + ".path", t.path(), "the tool's executable")).normalize();
            requireExecutable(field + ".path", path, "install the tool or fix the path");
            ToolConfig.Dialect dialect = dialect(field + ".dialect", t.dialect());
            boolean concurrent = Boolean.TRUE.equals(t.concurrent());
            if (concurrent && dialect != ToolConfig.Dialect.XEN) {
                throw new ConfigException(field + ".concurrent", "applies only to dialect xen (the ferry dialect always"
                        + " runs steps 0, 2 and 3 concurrently); remove it or set dialect: xen");
            }
            tools.put(type, new ToolConfig(path, dialect, timeouts(field + ".timeouts", t.timeouts()), concurrent));
        }
        return tools;
    }

    private static ToolConfig.Dialect dialect(String field, String raw) throws ConfigException {
        if (raw == null) {
            return ToolConfig.Dialect.FERRY;
        }
        for (ToolConfig.Dialect d : ToolConfig.Dialect.values()) {
            if (d.wireName().equals(raw.strip())) {
                return d;
            }
        }
        throw new ConfigException(field, "'" + raw + "' is not a dialect; use ferry or xen");
    }

    private static Map<ToolConfig.Step, Duration> timeouts(String field, Map<String, String> raw) throws ConfigException {
        Map<ToolConfig.Step, Duration> out = new EnumMap<>(ToolConfig.Step.class);
        if (raw == null) {
            return out;
        }
        for (Map.Entry<String, String> e : raw.entrySet()) {
            ToolConfig.Step step = step(field, e.getKey());
            out.put(step, duration(field + "." + e.getKey(), e.getValue()));
        }
        return out;
    }

    private static ToolConfig.Step step(String field, String name) throws ConfigException {
        for (ToolConfig.Step s : ToolConfig.Step.values()) {
            if (s.wireName().equals(name)) {
                return s;
            }
        }
        throw new ConfigException(field + "." + name, "unknown step; use check, pre-suspend, post-suspend, sync or recover");
    }

    static Duration duration(String field, String raw) throws ConfigException {
        Matcher m = raw == null ? null : DURATION.matcher(raw.strip());
        if (m == null || !m.matches()) {
            throw new ConfigException(field, "'" + raw + "' is not a duration; write e.g. 500ms, 30s, 5m or 1h");
        }
        long n = Long.parseLong(m.group(1));
        Duration d = switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> throw new IllegalStateException("Invalid duration unit: " + m.group(2));
        };
        if (d.isZero()) {
            throw new ConfigException(field, "must be longer than zero");
        }
        return d;
    }

    private static Map<String, URI> peers(Map<String, String> raw, String self) throws ConfigException {
        Map<String, URI> peers = new LinkedHashMap<>();
        if (raw == null) {
            return peers;
        }
        for (Map.Entry<String, String> e : raw.entrySet()) {
            String field = "peers." + e.getKey();
            if (e.getKey().equals(self)) {
                throw new ConfigException(field, "is this host's own name; list only the other hosts");
            }
            peers.put(e.getKey(), url(field, e.getValue()));
        }
        return peers;
    }

    private static URI url(String field, String raw) throws ConfigException {
        String fix = "; write the peer agent's URL, e.g. http://node2:7780";
        if (raw == null || raw.isBlank()) {
            throw new ConfigException(field, "missing" + fix);
        }
        try {
            URI u = new URI(raw.strip());
            if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null) {
                throw new ConfigException(field, "'" + raw + "' is not an http(s) URL" + fix);
            }
            return u;
        } catch (URISyntaxException e) {
            throw new ConfigException(field, "'" + raw + "' is not a URL" + fix, e);
        }
    }

}
