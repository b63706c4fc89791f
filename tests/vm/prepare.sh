# shellcheck shell=bash
# tests/vm/prepare.sh: sourced by tests/vm/run. Fetches Debian's kernel into the cache
# ($VM_CACHE, outside the tree) and builds the busybox initramfs, cached by kernel
# version + hash of everything that goes into it. Sets VM_KVER VM_VMLINUZ VM_KMODDIR
# VM_INITRD. Safe to run concurrently (flock on the cache).

# Modules the guest loads at boot, with their dependencies (resolved by modprobe
# against the cached kernel); dummy_hcd itself is loaded last, with num=BOARDS.
# loop, ext4 and dm-log-writes: the power-cut scenario's journal filesystem. virtio_net:
# the NIC of "# vm-net:" scenarios, there before udevd starts (so it keeps the kernel's
# name, eth0, and costs no modprobe over 9p); without the NIC it binds nothing.
VM_MODULES=(configfs libcomposite usb_f_fs usb_f_hid usbhid hid-generic
	virtio_pci 9pnet_virtio 9p overlay loop ext4 dm-log-writes virtio_net)

vm_check_tools() {
	local t missing=()
	for t in qemu-system-x86_64:qemu-system-x86 cpio:cpio gzip:gzip depmod:kmod \
		modprobe:kmod apt-get:apt dpkg:dpkg jq:jq timeout:coreutils flock:util-linux \
		busybox:busybox-static; do
		command -v "${t%%:*}" >/dev/null 2>&1 || missing+=("${t#*:}")
	done
	((${#missing[@]} == 0)) || vm_die "missing tools; install: ${missing[*]}"
	if ldd "$(command -v busybox)" >/dev/null 2>&1; then
		vm_die "busybox is dynamically linked; install busybox-static"
	fi
}

# vm_kernel_pkg: name of the kernel package linux-image-amd64 depends on, or nothing
vm_kernel_pkg() {
	{ apt-cache depends linux-image-amd64 2>/dev/null || true; } |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1
}

vm_apt_update() {
	[[ $(id -u) == 0 ]] || return 0
	apt-get update -qq >/dev/null 2>&1 || true
}

# vm_kernel_fetch PKG VERSION DEST: download and unpack one kernel package into DEST
# (called in a condition, so every step is checked by hand: set -e is off there)
vm_kernel_fetch() {
	local pkg=$1 ver=$2 dest=$3 tmp kver
	tmp=$(mktemp -d "$VM_CACHE/fetch.XXXXXX") || return 1
	chmod 755 "$tmp"
	if (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$pkg=$ver") \
		>"$tmp/apt.log" 2>&1 &&
		dpkg -x "$tmp/${pkg}_"*.deb "$tmp/x" &&
		kver=$(ls "$tmp/x/lib/modules") &&
		[[ -f $tmp/x/boot/vmlinuz-$kver ]] &&
		rm -rf "$tmp/x/usr" &&
		depmod -b "$tmp/x" "$kver" &&
		mv "$tmp/x" "$dest"; then
		rm -rf "$tmp"
		return 0
	fi
	cat "$tmp/apt.log" >&2
	rm -rf "$tmp"
	return 1
}

# vm_kernel_newest_cached: the newest complete kernel already in the cache
vm_kernel_newest_cached() {
	local d
	d=$(find "$VM_CACHE" -mindepth 1 -maxdepth 1 -type d -name 'linux-image-*' \
		-exec test -d '{}/lib/modules' ';' -print 2>/dev/null | sort -V | tail -n 1)
	[[ -n $d ]] && echo "$d"
}

vm_prepare_kernel() {
	local pkg ver kdir
	pkg=$(vm_kernel_pkg)
	if [[ -z $pkg ]]; then
		vm_apt_update
		pkg=$(vm_kernel_pkg)
	fi
	if [[ -n $pkg ]]; then
		ver=$({ apt-cache show --no-all-versions "$pkg" 2>/dev/null || true; } |
			sed -n 's/^Version: //p' | head -n 1)
		kdir=$VM_CACHE/${pkg}_$ver
		if [[ ! -d $kdir ]]; then
			echo "tests/vm/run: fetching $pkg $ver into $VM_CACHE" >&2
			if ! vm_kernel_fetch "$pkg" "$ver" "$kdir"; then
				vm_apt_update
				vm_kernel_fetch "$pkg" "$ver" "$kdir" || kdir=$(vm_kernel_newest_cached) ||
					vm_die "could not fetch $pkg and no kernel is cached in $VM_CACHE"
			fi
		fi
	else
		kdir=$(vm_kernel_newest_cached) ||
			vm_die "apt knows no linux-image-amd64 and no kernel is cached in $VM_CACHE"
	fi
	VM_KVER=$(ls "$kdir/lib/modules")
	# shellcheck disable=SC2034 # used by tests/vm/run
	VM_VMLINUZ=$kdir/boot/vmlinuz-$VM_KVER
	VM_KMODDIR=$kdir/lib/modules/$VM_KVER
}

# vm_module_list: module paths (relative to VM_KMODDIR) in load order, no duplicates
vm_module_list() {
	local m
	for m in "${VM_MODULES[@]}" dummy_hcd; do
		modprobe -d "${VM_KMODDIR%/lib/modules/*}" -S "$VM_KVER" --show-depends "$m" ||
			vm_die "kernel $VM_KVER has no module $m"
	done | awk -v root="$VM_KMODDIR/" '$1 == "insmod" {
		p = substr($2, length(root) + 1)
		if (p !~ /dummy_hcd\.ko$/ && !seen[p]++) print p
	}'
}

# vm_build_initrd OUT MODLIST: pack busybox, the init and the modules into OUT
vm_build_initrd() {
	local out=$1 modlist=$2 root a m
	root=$(mktemp -d "$VM_CACHE/initrd.XXXXXX")
	mkdir -p "$root"/{bin,proc,sys,dev,lower,rw,newroot} "$root/lib/modules/$VM_KVER"
	cp "$(command -v busybox)" "$root/bin/busybox"
	for a in $(busybox --list); do
		[[ $a == busybox ]] || ln -s busybox "$root/bin/$a"
	done
	while read -r m; do
		mkdir -p "$root/lib/modules/$VM_KVER/$(dirname "$m")"
		cp "$VM_KMODDIR/$m" "$root/lib/modules/$VM_KVER/$m"
	done <<<"$modlist"
	m=kernel/drivers/usb/gadget/udc/dummy_hcd.ko
	mkdir -p "$root/lib/modules/$VM_KVER/$(dirname "$m")"
	cp "$VM_KMODDIR/$m" "$root/lib/modules/$VM_KVER/$m"
	echo "$modlist" >"$root/modules.load"
	install -m 755 "$VM_SRCDIR/tests/vm/init" "$root/init"
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
	mv "$out.tmp" "$out"
	rm -rf "$root"
}

vm_prepare_initrd() {
	local modlist key
	modlist=$(vm_module_list)
	key=$({
		echo "$VM_KVER"
		echo "$modlist"
		cat "$VM_SRCDIR/tests/vm/init"
		declare -f vm_build_initrd
		sha256sum <"$(command -v busybox)"
	} | sha256sum | cut -c1-16)
	VM_INITRD=$VM_CACHE/initrd-$VM_KVER-$key.cpio.gz
	[[ -s $VM_INITRD ]] || vm_build_initrd "$VM_INITRD" "$modlist"
}

# vm_prepare: everything above, under one lock on the cache
vm_prepare() {
	local fd
	mkdir -p "$VM_CACHE" || vm_die "cannot create the cache $VM_CACHE"
	exec {fd}>"$VM_CACHE/.lock"
	flock "$fd"
	vm_prepare_kernel
	vm_prepare_initrd
	exec {fd}>&-
}
