package dev.ferry.pki;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.io.Writer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.EnumSet;
import java.util.Set;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/**
 * PEM certificates and keys on disk. Keys are written as PKCS#8 ({@code PRIVATE KEY}) with the
 * encoding of the BouncyCastle key they were generated as: it carries the curve's name and the
 * public key, which GnuTLS (QEMU) needs and the JDK's own encoding leaves out. Keys are created
 * with mode 0600 (never widened and narrowed after) and refused when read if group or others may
 * read or write them. Certificates and keys come back as the JDK's own objects, for JSSE.
 */
final class PemFiles {
    private static final Set<PosixFilePermission> LOOSE = EnumSet.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE);

    private PemFiles() {}

    static X509Certificate readCertificate(Path file) throws PkiException {
        Object pem = readOne(file, "a certificate");
        if (!(pem instanceof X509CertificateHolder holder)) {
            throw new PkiException(file + " holds no certificate (found " + describe(pem)
                    + "); give the PEM file with '-----BEGIN CERTIFICATE-----'");
        }
        try {
            return new JcaX509CertificateConverter().getCertificate(holder);
        } catch (CertificateException e) {
            throw new PkiException(file + " holds a certificate this JDK cannot read: " + e.getMessage(), e);
        }
    }

    /** The key in {@code file}, after checking that only its owner may read it. */
    static PrivateKey readPrivateKey(Path file) throws PkiException {
        requirePrivate(file);
        return readPrivateKeyUnchecked(file);
    }

    /** The key in {@code file}, whatever its mode; only for reporting on it. */
    static PrivateKey readPrivateKeyUnchecked(Path file) throws PkiException {
        Object pem = readOne(file, "a private key");
        try {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            if (pem instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
            if (pem instanceof PEMKeyPair pair) {
                return converter.getKeyPair(pair).getPrivate();
            }
        } catch (IOException e) {
            throw new PkiException(file + " holds a private key this JDK cannot read: " + e.getMessage(), e);
        }
        throw new PkiException(file + " holds no unencrypted private key (found " + describe(pem)
                + "); give a PEM 'PRIVATE KEY' such as 'ferry pki issue' writes");
    }

    /** Refuses a key file that group or others may read or write: a key others can read is no longer a secret. */
    static void requirePrivate(Path file) throws PkiException {
        Set<PosixFilePermission> perms;
        try {
            perms = Files.getPosixFilePermissions(file);
        } catch (NoSuchFileException e) {
            throw new PkiException(file + " does not exist; make it with 'ferry pki issue' or 'ferry pki client'", e);
        } catch (IOException e) {
            throw new PkiException("cannot read the permissions of " + file + ": " + e.getMessage(), e);
        }
        if (!java.util.Collections.disjoint(perms, LOOSE)) {
            throw new PkiException(file + " is a private key that group or others may access (mode "
                    + PosixFilePermissions.toString(perms) + "); run 'chmod 600 " + file + "'");
        }
    }

    static boolean isPrivate(Path file) throws IOException {
        return java.util.Collections.disjoint(Files.getPosixFilePermissions(file), LOOSE);
    }

    static void writeCertificate(Path file, X509Certificate cert) throws PkiException {
        write(file, cert, "rw-r--r--");
    }

    static void writePrivateKey(Path file, PrivateKey key) throws PkiException {
        try {
            write(file, new JcaPKCS8Generator(key, null).generate(), "rw-------");
        } catch (org.bouncycastle.util.io.pem.PemGenerationException e) {
            throw new PkiException("cannot encode the key for " + file + ": " + e.getMessage(), e);
        }
    }

    /** Creates {@code file} with {@code mode} from the start; an existing file is never replaced. */
    private static void write(Path file, Object pem, String mode) throws PkiException {
        try (Writer w = new OutputStreamWriter(Channels.newOutputStream(Files.newByteChannel(file,
                EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode)))), StandardCharsets.US_ASCII);
             JcaPEMWriter pemWriter = new JcaPEMWriter(w)) {
            pemWriter.writeObject(pem);
        } catch (FileAlreadyExistsException e) {
            throw new PkiException(file + " already exists and is never overwritten; remove it or choose another directory", e);
        } catch (IOException e) {
            throw new PkiException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static Object readOne(Path file, String what) throws PkiException {
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser parser = new PEMParser(r)) {
            Object pem = parser.readObject();
            if (pem == null) {
                throw new PkiException(file + " holds no PEM block; it should hold " + what);
            }
            return pem;
        } catch (NoSuchFileException e) {
            throw new PkiException(file + " does not exist; it should hold " + what, e);
        } catch (IOException e) {
            throw new PkiException("cannot read " + what + " from " + file + ": " + e.getMessage(), e);
        }
    }

    private static String describe(Object pem) {
        return pem.getClass().getSimpleName();
    }
}
