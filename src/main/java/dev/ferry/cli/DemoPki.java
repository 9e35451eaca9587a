package dev.ferry.cli;

import dev.ferry.pki.CertificateAuthority;
import dev.ferry.pki.PkiException;
import dev.ferry.pki.TlsContexts;
import dev.ferry.pki.TlsDir;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;

/**
 * The demo's throwaway cluster: a CA, a certificate for each of its two hosts (for 127.0.0.1 and
 * localhost, where the agents and their QEMUs listen) and an operator's for the demo itself, all
 * under one directory that goes away with the demo's.
 */
final class DemoPki {
    // Long enough that the agents do not warn of certificates about to expire (they do under 30 days).
    private static final Duration VALIDITY = Duration.ofDays(60);

    private final Path dir;
    private final SSLContext operator;

    private DemoPki(Path dir, SSLContext operator) {
        this.dir = dir;
        this.operator = operator;
    }

    static DemoPki make(Path dir) throws PkiException, java.io.IOException {
        // Only the demo's user may look in: the CA's key and the hosts' keys are in here.
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Clock clock = Clock.systemUTC();
        CertificateAuthority ca = CertificateAuthority.init(dir.resolve("ca"), "Ferry demo CA", VALIDITY.multipliedBy(2),
                clock);
        try {
            for (String host : List.of("host-a", "host-b")) {
                ca.issueHost(host, List.of("localhost"), List.of(InetAddress.getByName("127.0.0.1")), VALIDITY,
                        dir.resolve(host));
            }
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException("127.0.0.1 is always an address", e);
        }
        ca.issueOperator("demo", VALIDITY, dir.resolve("operator"));
        return new DemoPki(dir, TlsContexts.client(new TlsDir(dir.resolve("operator"))));
    }

    Path dir() {
        return dir;
    }

    Path hostDir(String host) {
        return dir.resolve(host);
    }

    /** What the demo calls the agents with: the operator's certificate, and the CA to check theirs. */
    SSLContext operator() {
        return operator;
    }
}
