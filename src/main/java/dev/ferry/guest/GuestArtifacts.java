package dev.ferry.guest;

import java.nio.file.Path;

/**
 * A built test guest, ready for {@code qemu-system-x86_64 -kernel KERNEL -initrd INITRAMFS -append CMDLINE}.
 * The files live in the kit's cache and must not be changed or deleted by callers.
 *
 * @param kernel         the kernel image (vmlinuz)
 * @param initramfs      the gzip-compressed cpio archive with busybox, the modules and /init
 * @param kernelVersion  the kernel's release, as {@code uname -r} prints it in the guest
 * @param kernelCmdline  the command line the guest expects: serial console on ttyS0, no reboot loop on panic
 */
public record GuestArtifacts(Path kernel, Path initramfs, String kernelVersion, String kernelCmdline) {}
