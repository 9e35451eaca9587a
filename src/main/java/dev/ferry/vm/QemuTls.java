package dev.ferry.vm;

import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.QmpErrorException;
import dev.ferry.qmp.QmpException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * TLS on QEMU's own streams (the migration stream and NBD), from a host's certificate directory
 * as {@code ferry pki issue} lays it out, which is the layout QEMU's {@code tls-creds-x509} reads.
 * A QEMU gets one credentials object, {@value #CREDS}: the source's is a client that checks the
 * destination's certificate against the cluster CA and the name in {@link Peer#hostname}; the
 * destination's is a server that requires a client certificate ({@code verify-peer}) and, through
 * the authorization object {@value #AUTHZ}, accepts only the one source host's subject.
 *
 * @param dir the host's certificate directory
 */
public record QemuTls(Path dir) {
    /** The id of the credentials object in a QEMU that speaks TLS. */
    public static final String CREDS = "ferry-tls";
    /** The id of the destination's authorization object: who may send. */
    public static final String AUTHZ = "ferry-tls-authz";

    public QemuTls {
        Objects.requireNonNull(dir, "dir");
    }

    /**
     * What a QEMU client needs to reach a peer's QEMU over TLS.
     *
     * @param creds    the id of the client's credentials object
     * @param hostname the name the peer's certificate must carry among its alternative names
     */
    public record Peer(String creds, String hostname) {
        public Peer {
            Objects.requireNonNull(creds, "creds");
            Objects.requireNonNull(hostname, "hostname");
        }
    }

    /**
     * Gives a source QEMU its client credentials, made anew from the directory: one left by an earlier
     * migration (or read before a rotation) is replaced. Returns what the source's streams use.
     */
    public Peer addClient(QmpClient qmp, String peerHostname) throws QmpException {
        try {
            qmp.execute("object-del", Map.of("id", CREDS));
        } catch (QmpErrorException e) {
            // None there yet: the usual case.
        }
        qmp.execute("object-add", credsObject("client"));
        return new Peer(CREDS, peerHostname);
    }

    /**
     * Gives an incoming QEMU its server credentials and an authorization that lets in only the client
     * whose certificate subject is {@code peerSubject}, as Java writes it (RFC 2253: {@code CN=..,OU=..,O=..}).
     */
    public void addServer(QmpClient qmp, String peerSubject) throws QmpException {
        qmp.execute("object-add", credsObject("server"));
        qmp.execute("object-add", Map.of("qom-type", "authz-simple", "id", AUTHZ, "identity",
                qemuIdentity(peerSubject)));
    }

    /**
     * A subject as QEMU's authorization compares it: GnuTLS writes the names in the certificate's own order
     * ({@code O=..,OU=..,CN=..}), the reverse of RFC 2253's; a subject in the wrong order is simply refused.
     */
    static String qemuIdentity(String rfc2253Subject) {
        try {
            // LdapName keeps the names rightmost first, which is the certificate's order.
            return new LdapName(rfc2253Subject).getRdns().stream().map(Rdn::toString).collect(Collectors.joining(","));
        } catch (InvalidNameException e) {
            throw new IllegalArgumentException("certificate subject '" + rfc2253Subject + "' is not an RFC 2253 name", e);
        }
    }

    Map<String, Object> credsObject(String endpoint) {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("qom-type", "tls-creds-x509");
        args.put("id", CREDS);
        args.put("dir", dir.toAbsolutePath().toString());
        args.put("endpoint", endpoint);
        args.put("verify-peer", true);
        return args;
    }
}
