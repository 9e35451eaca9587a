package dev.ferry.pki;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

/** A cluster CA with a host and an operator, made under one directory for a test. */
public final class TestPki {
    public static final Duration YEAR = Duration.ofDays(365);

    private final Path root;
    private final CertificateAuthority ca;

    private TestPki(Path root, CertificateAuthority ca) {
        this.root = root;
        this.ca = ca;
    }

    /** A new CA in {@code root/ca}. */
    public static TestPki in(Path root) throws PkiException {
        return in(root, "ca", Clock.systemUTC());
    }

    /** A new CA in {@code root/caDir}, made at the clock's time. */
    public static TestPki in(Path root, String caDir, Clock clock) throws PkiException {
        return new TestPki(root, CertificateAuthority.init(root.resolve(caDir), "Test CA " + caDir, Duration.ofDays(3650), clock));
    }

    public Path caDir() {
        return root.resolve("ca");
    }

    public CertificateAuthority ca() {
        return ca;
    }

    /** {@code host}'s directory {@code root/dir}, for 127.0.0.1 and localhost. */
    public Path host(String host, String dir) throws Exception {
        Path out = root.resolve(dir);
        ca.issueHost(host, List.of("localhost"), List.of(InetAddress.getByName("127.0.0.1")), YEAR, out);
        return out;
    }

    /** An operator's directory {@code root/dir}. */
    public Path operator(String name, String dir) throws PkiException {
        Path out = root.resolve(dir);
        ca.issueOperator(name, YEAR, out);
        return out;
    }

    /** A CA whose clock stood at {@code instant}, so what it issues for a short time has expired since. */
    public static TestPki at(Path root, String caDir, Instant instant) throws PkiException {
        return in(root, caDir, Clock.fixed(instant, ZoneOffset.UTC));
    }
}
