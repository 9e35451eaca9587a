package dev.ferry.agent.config;

import dev.ferry.vm.Accelerator;
import dev.ferry.vm.PathRoots;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One host agent's configuration, validated when loaded ({@link #load}) and immutable after.
 *
 * @param host    this host's name, as its peers know it
 * @param listen  address the HTTP API binds to
 * @param port    TCP port of the API; 0 picks a free one, written to {@code <dataDir>/agent.port}
 * @param dataDir where the state database and the VMs' run directories live
 * @param qemu    the QEMU system emulator binary
 * @param swtpm   the swtpm binary
 * @param tools   external migration tools by device type
 * @param peers   other agents by host name
 * @param accel   how QEMU runs guests here: KVM when usable ({@code auto}), always KVM, or always TCG
 * @param roots   the directories whose files VMs and save files may use ({@code storage}, {@code boot},
 *                {@code saves}, {@code blockDevices}); the data directory's images and saves are always in
 * @param tlsDir  the host's certificate directory ({@code ferry pki issue}): the API serves HTTPS only and
 *                requires client certificates of the cluster CA; null serves plain HTTP
 * @param insecure plain HTTP on an address other hosts can reach, knowingly ({@code insecure: true})
 */
public record AgentConfig(String host, String listen, int port, Path dataDir, Path qemu, Path swtpm,
                          Map<String, ToolConfig> tools, Map<String, URI> peers, Accelerator accel, PathRoots roots,
                          Path tlsDir, boolean insecure) {

    public static final String DEFAULT_LISTEN = "127.0.0.1";
    public static final int DEFAULT_PORT = 7780;

    public AgentConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(qemu, "qemu");
        Objects.requireNonNull(swtpm, "swtpm");
        Objects.requireNonNull(accel, "accel");
        Objects.requireNonNull(roots, "roots");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be between 0 and 65535, was " + port);
        }
        tools = Map.copyOf(tools);
        peers = Map.copyOf(peers);
        if (tlsDir != null && insecure) {
            throw new IllegalArgumentException("tls and insecure exclude each other");
        }
    }

    /** A plain-HTTP agent, as on loopback. */
    public AgentConfig(String host, String listen, int port, Path dataDir, Path qemu, Path swtpm,
                       Map<String, ToolConfig> tools, Map<String, URI> peers, Accelerator accel, PathRoots roots) {
        this(host, listen, port, dataDir, qemu, swtpm, tools, peers, accel, roots, null, false);
    }

    /** The host's certificate directory, when the API serves HTTPS with client certificates. */
    public Optional<Path> tls() {
        return Optional.ofNullable(tlsDir);
    }

    /** Reads and validates a YAML configuration file; relative paths in it resolve against its directory. */
    public static AgentConfig load(Path file) throws ConfigException {
        return new ConfigLoader(System.getenv("PATH")).load(file);
    }

    /** The state database. */
    public Path databaseFile() {
        return dataDir.resolve("ferry.db");
    }

    /** Where the VMs' run directories live: {@code <dataDir>/run/<name>}. */
    public Path runRoot() {
        return dataDir.resolve("run");
    }

    /** Where a started agent writes the port it listens on, so scripts and tests can find it. */
    public Path portFile() {
        return dataDir.resolve("agent.port");
    }

    public AgentConfig withPort(int newPort) {
        return new AgentConfig(host, listen, newPort, dataDir, qemu, swtpm, tools, peers, accel, roots, tlsDir,
                insecure);
    }

    /** The same agent serving HTTPS with the certificates in {@code dir}. */
    public AgentConfig withTls(Path dir) {
        return new AgentConfig(host, listen, port, dataDir, qemu, swtpm, tools, peers, accel, roots, dir, false);
    }
}
