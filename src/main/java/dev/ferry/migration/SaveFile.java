package dev.ferry.migration;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * The file {@code ferry save} writes: a one-line magic, a one-line JSON header, the VM's spec,
 * then QEMU's migration stream (device state, vTPM state included) to the end of the file.
 */
public final class SaveFile {
    static final String MAGIC = "FERRY-SAVE 1";
    private static final ObjectMapper JSON = new ObjectMapper().findAndRegisterModules();
    private static final int MAX_HEADER = 1 << 20;

    /** The header: which VM, when, and how many bytes of spec follow it. */
    public record Header(String vm, String uuid, Instant savedAt, int specBytes) {}

    /** A save file's header, spec, and where QEMU's stream starts. */
    public record Contents(Header header, String spec, long streamOffset) {}

    private SaveFile() {}

    /**
     * Writes the magic, header and spec into a new {@code file}; QEMU's stream is appended after them.
     * A leftover of an earlier attempt is removed first (a link itself, never what it points to), and
     * the file is created exclusively, so a link planted in between makes this fail instead of writing through it.
     */
    static void writeHead(Path file, String vm, String uuid, String spec, Instant now) throws IOException {
        byte[] specBytes = spec.getBytes(StandardCharsets.UTF_8);
        Header header = new Header(vm, uuid, now, specBytes.length);
        Files.deleteIfExists(file);
        try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            out.write((MAGIC + "\n").getBytes(StandardCharsets.US_ASCII));
            out.write(JSON.writeValueAsBytes(header));
            out.write('\n');
            out.write(specBytes);
        }
    }

    /** Reads a save file's head; the error names the file and what is wrong with it. */
    public static Contents read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            String magic = line(in, file);
            if (!magic.equals(MAGIC)) {
                throw new IOException(file + " is not a Ferry save file (it does not start with '" + MAGIC + "')");
            }
            String headerLine = line(in, file);
            Header header = JSON.readValue(headerLine, Header.class);
            byte[] spec = in.readNBytes(header.specBytes());
            if (spec.length != header.specBytes()) {
                throw new IOException(file + " is truncated: its spec ends early");
            }
            long offset = magic.length() + 1L + headerLine.getBytes(StandardCharsets.UTF_8).length + 1L + spec.length;
            if (Files.size(file) <= offset) {
                throw new IOException(file + " holds no VM state after its spec; the save did not finish");
            }
            return new Contents(header, new String(spec, StandardCharsets.UTF_8), offset);
        }
    }

    /** A shell-safe single-quoted word, for QEMU's {@code exec:} migration URIs (QEMU runs them with sh -c). */
    public static String shellQuote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    private static String line(InputStream in, Path file) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) != '\n') {
            if (c < 0 || sb.length() > MAX_HEADER) {
                throw new IOException(file + " is not a Ferry save file (no header line)");
            }
            sb.append((char) c);
        }
        return sb.toString();
    }
}
