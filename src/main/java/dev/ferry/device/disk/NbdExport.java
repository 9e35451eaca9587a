package dev.ferry.device.disk;

import dev.ferry.qmp.EventWaiter;
import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.QmpErrorException;
import dev.ferry.qmp.QmpException;
import dev.ferry.vm.QemuTls;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The destination side of a local-disk copy: the incoming QEMU's NBD server and one writable export
 * per disk, each exporting the block node the copy lands in.
 *
 * <pre>{@code
 * NbdExport nbd = new NbdExport(destinationQmp);
 * nbd.startServer("0.0.0.0", 0);                       // 0: pick a free port
 * NbdTarget target = nbd.add("disk0", "disk0").withHost(migrationAddress);
 * // ... the source mirrors into target and completes ...
 * nbd.remove("disk0");                                 // before the guest resumes here
 * nbd.stopServer();
 * }</pre>
 *
 * <p>QEMU 7.2 listens on a free port when asked for port 0 but does not say which, so this class
 * picks one itself and retries if another process takes it first.
 */
public final class NbdExport {
    /** Emitted when an export is really gone: all its clients have disconnected. */
    static final String BLOCK_EXPORT_DELETED = "BLOCK_EXPORT_DELETED";
    private static final int PORT_ATTEMPTS = 5;
    private static final Duration REMOVE_TIMEOUT = Duration.ofSeconds(30);

    private final QmpClient qmp;
    private final Set<String> exports = new LinkedHashSet<>();
    private String host;
    private int port;

    public NbdExport(QmpClient qmp) {
        this.qmp = Objects.requireNonNull(qmp, "qmp");
    }

    /**
     * Starts the NBD server on {@code host} and {@code port} (0 for a free one) and returns the port.
     *
     * @throws DiskException when QEMU cannot listen there, e.g. the port is taken or a server already runs
     */
    public synchronized int startServer(String host, int port) throws DiskException {
        return startServer(host, port, false);
    }

    /**
     * Starts the NBD server; with {@code tls} it speaks only TLS, with QEMU's credentials object
     * {@link QemuTls#CREDS} and lets in only the client {@link QemuTls#AUTHZ} names (both must exist).
     */
    public synchronized int startServer(String host, int port, boolean tls) throws DiskException {
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("NBD port must be 0..65535, was " + port);
        }
        for (int attempt = 1; ; attempt++) {
            int chosen = port != 0 ? port : freePort(host);
            try {
                qmp.execute("nbd-server-start", serverArgs(host, chosen, tls));
                this.host = host;
                this.port = chosen;
                return chosen;
            } catch (QmpErrorException e) {
                // The free port was taken between our probe and QEMU's bind: try another.
                boolean taken = e.description().contains("Address already in use");
                if (port == 0 && taken && attempt < PORT_ATTEMPTS) {
                    continue;
                }
                throw new DiskException("cannot start the NBD server on " + host + ":" + chosen + " ("
                        + qmp.socket() + "): " + e.description()
                        + (taken ? "; choose another port" : "; stop the server left by an earlier migration"), e);
            } catch (QmpException e) {
                throw new DiskException("cannot start the NBD server on " + host + ":" + chosen + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * Exports block node {@code nodeName} writable under the name {@code deviceId} and returns where
     * the source finds it. The server must be running.
     */
    public synchronized NbdTarget add(String deviceId, String nodeName) throws DiskException {
        if (host == null) {
            throw new IllegalStateException("start the NBD server before exporting disk '" + deviceId + "'");
        }
        try {
            qmp.execute("block-export-add", exportArgs(deviceId, nodeName));
        } catch (QmpException e) {
            throw new DiskException("disk '" + deviceId + "': cannot export block node '" + nodeName + "' over NBD: "
                    + e.getMessage() + "; the incoming QEMU must have a -blockdev node named '" + nodeName + "'", e);
        }
        exports.add(deviceId);
        return new NbdTarget(host, port, deviceId);
    }

    /**
     * Removes the export of {@code deviceId} and waits until QEMU has dropped it. Fails if a client is
     * still connected: the source must delete its NBD node first. Does nothing if there is no such export.
     */
    public synchronized void remove(String deviceId) throws DiskException {
        delete(deviceId, "safe");
    }

    /** Stops the NBD server. Does nothing if none runs. Remove the exports first. */
    public synchronized void stopServer() throws DiskException {
        try {
            qmp.execute("nbd-server-stop");
        } catch (QmpErrorException e) {
            if (!e.description().contains("not running")) {
                throw new DiskException("cannot stop the NBD server (" + qmp.socket() + "): " + e.description(), e);
            }
        } catch (QmpException e) {
            throw new DiskException("cannot stop the NBD server: " + e.getMessage(), e);
        }
        host = null;
        port = 0;
    }

    /**
     * Rollback: drops the exports of {@code deviceIds} and of every disk this object exported,
     * disconnecting any client, then stops the server. Tries every step and reports all failures together.
     */
    public synchronized void abort(List<String> deviceIds) throws DiskException {
        Set<String> all = new LinkedHashSet<>(exports);
        all.addAll(deviceIds);
        List<String> failures = new ArrayList<>();
        for (String id : all) {
            try {
                delete(id, "hard");
            } catch (DiskException e) {
                failures.add(e.getMessage());
            }
        }
        try {
            stopServer();
        } catch (DiskException e) {
            failures.add(e.getMessage());
        }
        if (!failures.isEmpty()) {
            throw new DiskException("NBD rollback on " + qmp.socket() + " left work undone: " + String.join("; ", failures));
        }
    }

    private void delete(String deviceId, String mode) throws DiskException {
        try (EventWaiter gone = qmp.expectEvent(e -> e.is(BLOCK_EXPORT_DELETED) && deviceId.equals(e.data().path("id").asText()))) {
            try {
                qmp.execute("block-export-del", Map.of("id", deviceId, "mode", mode));
            } catch (QmpErrorException e) {
                if (e.description().contains("not found")) {
                    exports.remove(deviceId);
                    return;
                }
                throw new DiskException("disk '" + deviceId + "': cannot remove its NBD export: " + e.description()
                        + ("safe".equals(mode) ? "; delete the NBD client node on the source first" : ""), e);
            }
            gone.await(REMOVE_TIMEOUT);
            exports.remove(deviceId);
        } catch (QmpException e) {
            throw new DiskException("disk '" + deviceId + "': NBD export not removed: " + e.getMessage(), e);
        }
    }

    static Map<String, Object> serverArgs(String host, int port, boolean tls) {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("addr", Map.of("type", "inet", "data", Map.of("host", host, "port", Integer.toString(port))));
        if (tls) {
            args.put("tls-creds", QemuTls.CREDS);
            args.put("tls-authz", QemuTls.AUTHZ);
        }
        return args;
    }

    static Map<String, Object> exportArgs(String deviceId, String nodeName) {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("type", "nbd");
        args.put("id", deviceId);
        args.put("node-name", nodeName);
        args.put("name", deviceId);
        args.put("writable", true);
        return args;
    }

    private static int freePort(String host) throws DiskException {
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
            return probe.getLocalPort();
        } catch (IOException e) {
            throw new DiskException("cannot find a free port for the NBD server on " + host + ": " + e.getMessage()
                    + "; check that " + host + " is an address of this host", e);
        }
    }
}
