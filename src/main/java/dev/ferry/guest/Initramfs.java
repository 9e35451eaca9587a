package dev.ferry.guest;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.GZIPOutputStream;

/**
 * Lays out the guest's root file system as a gzip-compressed newc cpio archive: busybox and its
 * applet links in /bin, the modules in /lib/modules as NAME.ko, /init, and the empty mount points.
 */
final class Initramfs {
    /** A module to ship, already decompressed: busybox insmod gets plain ELF files. */
    record Module(String name, byte[] content) {}

    private Initramfs() {}

    static void write(OutputStream target, byte[] busybox, String init, List<Module> modules) throws IOException {
        GZIPOutputStream gzip = new GZIPOutputStream(target, 64 * 1024);
        try (CpioWriter cpio = new CpioWriter(gzip)) {
            for (String dir : List.of("bin", "dev", "proc", "sys", "tmp", "lib", "lib/modules")) {
                cpio.directory(dir, 0755);
            }
            // The kernel opens /dev/console for init's stdio before init can mount devtmpfs.
            cpio.charDevice("dev/console", 0600, 5, 1);
            cpio.file("bin/busybox", 0755, busybox);
            for (String applet : InitScript.APPLETS) {
                cpio.symlink("bin/" + applet, "busybox");
            }
            for (Module module : modules) {
                cpio.file("lib/modules/" + module.name() + ".ko", 0644, module.content());
            }
            cpio.file("init", 0755, init.getBytes(StandardCharsets.UTF_8));
        }
        gzip.finish();
        gzip.flush();
    }
}
