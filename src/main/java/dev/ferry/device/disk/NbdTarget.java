package dev.ferry.device.disk;

import dev.ferry.vm.QemuTls;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Where a disk's copy is exported over NBD: what the destination hands to the source so that the
 * source can mirror into it.
 *
 * @param host       address the source connects to
 * @param port       TCP port of the destination QEMU's NBD server
 * @param exportName the export's name, which is the disk's device id
 * @param tls        how the source's QEMU reaches the export over TLS; null for plain NBD
 */
public record NbdTarget(String host, int port, String exportName, QemuTls.Peer tls) {
    public NbdTarget(String host, int port, String exportName) {
        this(host, port, exportName, null);
    }

    public NbdTarget {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(exportName, "exportName");
        if (host.isBlank()) {
            throw new IllegalArgumentException("NBD host of export '" + exportName + "' is blank");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("NBD port of export '" + exportName + "' must be 1..65535, was " + port);
        }
    }

    /** {@code nbd://host:port/export}, the form {@code qemu-img} and {@code qemu-io} take. */
    public String uri() {
        String h = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
        return "nbd://" + h + ":" + port + "/" + exportName;
    }

    /**
     * The same export reached through another address, e.g. when the server listens on
     * {@code 0.0.0.0} and the source must use the destination's migration address.
     */
    public NbdTarget withHost(String reachableHost) {
        return new NbdTarget(reachableHost, port, exportName, tls);
    }

    /** The same export reached over TLS with the source QEMU's credentials; null {@code tls} for plain NBD. */
    public NbdTarget withTls(QemuTls.Peer tls) {
        return new NbdTarget(host, port, exportName, tls);
    }

    /** Arguments of {@code blockdev-add} for a client node named {@code nodeName} that opens this export. */
    Map<String, Object> clientNode(String nodeName) {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("driver", "nbd");
        args.put("node-name", nodeName);
        args.put("server", Map.of("type", "inet", "host", host, "port", Integer.toString(port)));
        args.put("export", exportName);
        if (tls != null) {
            args.put("tls-creds", tls.creds());
            args.put("tls-hostname", tls.hostname());
        }
        return args;
    }

    @Override
    public String toString() {
        return uri();
    }
}
