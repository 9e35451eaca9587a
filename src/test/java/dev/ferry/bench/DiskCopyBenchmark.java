package dev.ferry.bench;

import dev.ferry.device.disk.DiskImage;
import dev.ferry.device.disk.DiskImages;
import dev.ferry.device.disk.DiskMirror;
import dev.ferry.device.disk.NbdExport;
import dev.ferry.device.disk.NbdTarget;
import dev.ferry.proc.Command;
import dev.ferry.proc.ProcResult;
import dev.ferry.proc.ProcessRunner;
import dev.ferry.proc.RunningProcess;
import dev.ferry.qmp.QmpClient;
import dev.ferry.qmp.QmpException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * How fast a local disk travels through Ferry's mirror path ({@code blockdev-mirror} into an NBD
 * export, ready, then completed with the guest paused) compared with a plain
 * {@code qemu-img convert -n} into an export of the same kind. Both copy the same image with data
 * in every block into an empty qcow2 image exported by an incoming QEMU on 127.0.0.1.
 *
 * <p>Run from the project directory (the argument is the image size in MiB, 1024 if left out):
 * <pre>
 * mvn -B -q test-compile org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp target/classes:target/test-classes:$(cat target/cp.txt) dev.ferry.bench.DiskCopyBenchmark 1024
 * </pre>
 */
public final class DiskCopyBenchmark {
    private static final String DISK = "disk0";
    private static final Duration WAIT = Duration.ofMinutes(10);
    private static final long MIB = 1024 * 1024;
    private static final int FILL_CHUNK_MIB = 128;

    private final ProcessRunner runner = new ProcessRunner();
    private final DiskImages images = new DiskImages(runner);
    private final Path dir;

    private DiskCopyBenchmark(Path dir) {
        this.dir = dir;
    }

    public static void main(String[] args) throws Exception {
        long sizeMib = args.length > 0 ? Long.parseLong(args[0]) : 1024;
        Path dir = Files.createTempDirectory("ferry-disk-bench");
        try {
            new DiskCopyBenchmark(dir).run(sizeMib);
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private void run(long sizeMib) throws Exception {
        Path source = dir.resolve("source.qcow2");
        images.create(source, DiskImage.QCOW2, sizeMib * MIB);
        fill(source, sizeMib);
        DiskImage info = images.info(source);
        System.out.printf(Locale.ROOT, "source: %d MiB %s, %d MiB allocated%n",
                info.virtualSize() / MIB, info.format(), info.actualSize() / MIB);

        Path mirrored = dir.resolve("mirrored.qcow2");
        double mirrorSeconds = mirror(source, info, mirrored);
        Path converted = dir.resolve("converted.qcow2");
        double convertSeconds = convert(source, info, converted);

        boolean mirrorOk = images.identical(source, mirrored);
        boolean convertOk = images.identical(source, converted);
        double mib = info.virtualSize() / (double) MIB;
        System.out.printf(Locale.ROOT, "mirror  (blockdev-mirror -> NBD): %7.2f s  %8.1f MiB/s  copy identical: %s%n",
                mirrorSeconds, mib / mirrorSeconds, mirrorOk);
        System.out.printf(Locale.ROOT, "convert (qemu-img convert -> NBD): %6.2f s  %8.1f MiB/s  copy identical: %s%n",
                convertSeconds, mib / convertSeconds, convertOk);
        System.out.printf(Locale.ROOT, "mirror / convert throughput: %.2f%n", convertSeconds / mirrorSeconds);
        if (!mirrorOk || !convertOk) {
            throw new IllegalStateException("a copy differs from the source; the numbers above do not count");
        }
    }

    /** Writes a different byte pattern into every chunk, so each block holds data and none is zero. */
    private void fill(Path image, long sizeMib) throws Exception {
        List<String> argv = new java.util.ArrayList<>(List.of("qemu-io"));
        for (long offset = 0, i = 0; offset < sizeMib; offset += FILL_CHUNK_MIB, i++) {
            long len = Math.min(FILL_CHUNK_MIB, sizeMib - offset);
            argv.addAll(List.of("-c", "write -P 0x" + Long.toHexString(0x11 + i % 0xe0) + " " + offset + "M " + len + "M"));
        }
        argv.add(image.toString());
        check(runner.run(Command.of(argv).timeout(WAIT)));
    }

    private double mirror(Path source, DiskImage info, Path target) throws Exception {
        images.create(target, info.format(), info.virtualSize());
        try (Qemu src = Qemu.start(runner, dir, "source", source, false);
             Qemu dst = Qemu.start(runner, dir, "mirror-target", target, true)) {
            NbdExport nbd = new NbdExport(dst.qmp);
            nbd.startServer("127.0.0.1", 0);
            NbdTarget export = nbd.add(DISK, DISK);
            DiskMirror mirror = new DiskMirror(src.qmp);
            long start = System.nanoTime();
            mirror.start(List.of(new DiskMirror.Disk(DISK, DISK, export)), 0);
            mirror.awaitReady(WAIT, p -> System.out.printf(Locale.ROOT, "  mirror %3.0f%%%n", p.fraction() * 100));
            src.qmp.execute("stop");
            mirror.complete(WAIT);
            double seconds = (System.nanoTime() - start) / 1e9;
            nbd.remove(DISK);
            nbd.stopServer();
            return seconds;
        }
    }

    private double convert(Path source, DiskImage info, Path target) throws Exception {
        images.create(target, info.format(), info.virtualSize());
        try (Qemu dst = Qemu.start(runner, dir, "convert-target", target, true)) {
            NbdExport nbd = new NbdExport(dst.qmp);
            nbd.startServer("127.0.0.1", 0);
            NbdTarget export = nbd.add(DISK, DISK);
            long start = System.nanoTime();
            check(runner.run(Command.of("qemu-img", "convert", "-n", "-O", "raw", source.toString(), export.uri())
                    .timeout(WAIT)));
            double seconds = (System.nanoTime() - start) / 1e9;
            nbd.remove(DISK);
            nbd.stopServer();
            return seconds;
        }
    }

    private static void check(ProcResult result) {
        if (!result.ok()) {
            throw new IllegalStateException(result.describe());
        }
    }

    /** A QEMU under TCG without a guest, with one disk as block node and virtio-blk device named {@value #DISK}. */
    private record Qemu(RunningProcess process, QmpClient qmp) implements AutoCloseable {
        static Qemu start(ProcessRunner runner, Path dir, String name, Path image, boolean incoming)
                throws IOException, QmpException {
            Path socket = dir.resolve(name + ".qmp");
            List<String> argv = new java.util.ArrayList<>(List.of("qemu-system-x86_64", "-machine", "q35",
                    "-accel", "tcg", "-m", "64", "-nodefaults", "-display", "none",
                    "-qmp", "unix:" + socket + ",server=on,wait=off",
                    "-blockdev", "driver=qcow2,node-name=" + DISK + ",file.driver=file,file.filename=" + image,
                    "-device", "virtio-blk-pci,drive=" + DISK + ",id=" + DISK));
            if (incoming) {
                argv.addAll(List.of("-incoming", "defer"));
            }
            RunningProcess process = runner.start(Command.of(argv).timeout(WAIT));
            try {
                return new Qemu(process, QmpClient.connect(socket, Duration.ofSeconds(20)));
            } catch (QmpException e) {
                process.kill();
                throw e;
            }
        }

        @Override
        public void close() {
            try {
                qmp.execute("quit");
            } catch (QmpException e) {
                // QEMU is going away already.
            } finally {
                qmp.close();
            }
            try {
                if (process.await(Duration.ofSeconds(20)).isEmpty()) {
                    process.kill();
                }
            } catch (InterruptedException e) {
                process.kill();
                Thread.currentThread().interrupt();
            }
        }
    }
}
