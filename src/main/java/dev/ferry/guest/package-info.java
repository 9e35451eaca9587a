/**
 * The small Linux guest that the demo and the integration tests boot, and the checker for what it
 * writes to its disk.
 *
 * <p>Building: {@link dev.ferry.guest.GuestKit} asks apt for the current cloud kernel package
 * version and returns the cached build for it, or makes one: {@code KernelPackage} downloads and
 * unpacks the kernel package (nothing is installed), {@code KernelTree} picks the virtio and TPM
 * modules the kernel does not have built in and orders them by dependency ({@code ModuleDeps},
 * reading {@code Elf} module info when the package has no modules.dep), and {@code Initramfs}
 * writes busybox, the modules and {@code InitScript}'s {@code /init} through {@code CpioWriter}.
 * The result is a {@link dev.ferry.guest.GuestArtifacts}.
 *
 * <p>Booting: {@link dev.ferry.guest.GuestSpecs} writes a VM spec for {@code ferry vm define} that
 * boots a {@code GuestArtifacts} with a shared qcow2 data disk (created with qemu-img), a user-mode
 * NIC and an swtpm vTPM, and parses it back before reporting success.
 *
 * <p>Running: the guest prints {@code boot}, {@code pcr-sha256}, {@code tick} and {@code wrote}
 * lines on its serial console (listed in {@code InitScript}) and writes numbered 4 KiB records to
 * its first virtio disk in the layout of {@code GuestRecord}.
 *
 * <p>Checking: {@link dev.ferry.guest.DiskVerifier} reads a raw or qcow2 image and returns a
 * {@link dev.ferry.guest.DiskReport}: the highest contiguous record, gaps and corrupt records.
 */
package dev.ferry.guest;
