package dev.ferry.pki;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
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
    private final Path caDir;
    private final CertificateAuthority ca;

    private TestPki(Path root, Path caDir, CertificateAuthority ca) {
        this.root = root;
        this.caDir = caDir;
        this.ca = ca;
    }

    /** A new CA in {@code root/ca}. */
    public static TestPki in(Path root) throws PkiException {
        return in(root, "ca", Clock.systemUTC());
    }

    /** A new CA in {@code root/caDir}, made at the clock's time. */
    public static TestPki in(Path root, String caDir, Clock clock) throws PkiException {
        try {
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path dir = root.resolve(caDir);
        return new TestPki(root, dir, CertificateAuthority.init(dir, "Test CA " + caDir, Duration.ofDays(3650), clock));
    }

    public Path caDir() {
        return caDir;
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
