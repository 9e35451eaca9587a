package dev.ferry.agent.api;

import dev.ferry.pki.Identity;
import io.javalin.http.Context;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.Set;
import javax.net.ssl.X509TrustManager;

/**
 * Who may call what, decided from the client certificate: first whether the cluster CA signed it
 * and it is valid now (401 otherwise, saying which), then its kind. Operators ({@code ferry pki client}, OU=operators) may call everything but the peer API;
 * hosts ({@code ferry pki issue}, OU=hosts) whose CN is one of this agent's peers may call the peer
 * API ({@code /v1/peer/...}) only; every other certificate is refused. The decision is made before
 * any handler runs, on the path the router matches.
 */
final class ClientAccess {
    /** The context attribute under which the caller's {@link Identity} is kept for the handlers. */
    static final String CALLER = "ferry.caller";
    static final String PEER_API = "/v1/peer/";
    private static final String CERTIFICATES = "jakarta.servlet.request.X509Certificate";

    private final Set<String> peers;
    private final X509TrustManager cluster;

    ClientAccess(Set<String> peers, X509TrustManager cluster) {
        this.peers = Set.copyOf(peers);
        this.cluster = cluster;
    }

    void check(Context ctx) {
        Identity caller = caller(ctx.req().getAttribute(CERTIFICATES));
        decide(caller, ctx.path());
        ctx.attribute(CALLER, caller);
    }

    /** The holder of a certificate the cluster CA signed and that is valid now; 401 naming what is wrong otherwise. */
    Identity caller(Object certificates) {
        if (!(certificates instanceof X509Certificate[] chain) || chain.length == 0) {
            throw new AccessDeniedException(401, "unauthenticated", null, "this agent requires a client certificate of"
                    + " the cluster CA; pass --cert DIR (a directory from 'ferry pki client') or set FERRY_CERT");
        }
        Identity holder = Identity.of(chain[0]);
        try {
            chain[0].checkValidity();
        } catch (CertificateExpiredException e) {
            throw unauthenticated(holder, "expired on " + chain[0].getNotAfter().toInstant());
        } catch (CertificateNotYetValidException e) {
            throw unauthenticated(holder, "is not valid before " + chain[0].getNotBefore().toInstant()
                    + " (is this host's clock right?)");
        }
        try {
            cluster.checkClientTrusted(chain, "UNKNOWN");
        } catch (CertificateException e) {
            throw unauthenticated(holder, "was not issued by this cluster's CA (its issuer: '"
                    + chain[0].getIssuerX500Principal().getName() + "')");
        }
        return holder;
    }

    private static AccessDeniedException unauthenticated(Identity holder, String what) {
        return new AccessDeniedException(401, "unauthenticated", holder, "the client certificate '" + holder.subject()
                + "' " + what + "; use one from 'ferry pki client' (operators) or 'ferry pki issue' (hosts) of this"
                + " cluster's CA");
    }

    /** Returns when {@code caller} may call {@code path}; throws a 403 naming the rule otherwise. */
    void decide(Identity caller, String path) {
        boolean peerApi = path.startsWith(PEER_API);
        switch (caller.kind()) {
            case OPERATOR -> {
                if (peerApi) {
                    throw forbidden(caller, "operator '" + caller.name() + "' may not call the peer API (" + PEER_API
                            + "...); only the agents named in this agent's peers may");
                }
            }
            case HOST -> {
                if (!peers.contains(caller.name())) {
                    throw forbidden(caller, "host '" + caller.name() + "' is not a peer of this agent (its peers are "
                            + new java.util.TreeSet<>(peers) + "); add it under peers in this agent's config");
                }
                if (!peerApi) {
                    throw forbidden(caller, "host '" + caller.name() + "' may call only the peer API (" + PEER_API
                            + "...); operators call the rest with a certificate from 'ferry pki client'");
                }
            }
            case OTHER -> throw forbidden(caller, "the certificate '" + caller.subject() + "' is neither a host's"
                    + " (OU=" + Identity.HOSTS_UNIT + ") nor an operator's (OU=" + Identity.OPERATORS_UNIT
                    + "); issue one with 'ferry pki issue' or 'ferry pki client'");
            default -> throw new IllegalStateException("Invalid identity kind: " + caller.kind());
        }
    }

    private static AccessDeniedException forbidden(Identity caller, String message) {
        return new AccessDeniedException(403, "forbidden", caller, message);
    }
}
