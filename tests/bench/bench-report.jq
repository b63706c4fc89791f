# tests/bench/bench-report.jq: the figures of `make bench` (used by bench-report).
# `report` builds bench.json from the raw data bench-report hands over as $p1 … $p5
# and $p2spl;
# `table` prints bench.json for people. Times from the emulator's log are
# CLOCK_MONOTONIC ns in the guest; udev times are seconds on the same clock.

def median: sort | if length == 0 then null
	elif length % 2 == 1 then .[length / 2 | floor]
	else (.[length / 2 - 1] + .[length / 2]) / 2 end;
def rnd(n): if . == null then null else (. * pow(10; n) | round) / pow(10; n) end;
def ratio(a; b): if a == null or b == null or b == 0 then null else a / b end;
def ev(name): map(select(.ev == name));
def first_ev(name): ev(name) | first;
def stats: {median: (median | rnd(2)), max: (max | rnd(2)), min: (min | rnd(2)), n: length};

# ---------------------------------------------------------------- P1

# the last of the largest downloads of a run: bytes, and the time from the "download:" command to
# its last data byte, both as the board saw them; with the guest's CPU over that
# window when the board logged it (busy/idle clock ticks of all vCPUs, and the
# board's own CPU): what one GB cost the whole guest, and how idle it was
def dl_rate($hz):
	. as $e
	| ([to_entries[] | select(.value.ev == "download-done")]
	   | (map(.value.bytes) | max) as $m | map(select(.value.bytes == $m)) | last) as $d
	| if $d == null then null else
		([$e[0:$d.key][] | select(.ev == "download")] | last) as $s
		| if $s == null then null else
			{bytes: $d.value.bytes, s: (($d.value.ts - $s.ts) / 1e9),
			 mbps: ($d.value.bytes / (($d.value.ts - $s.ts) / 1e9) / 1e6)}
			+ (if $s.cpu_busy == null or $d.value.cpu_busy == null or $hz == null then {} else
				(($d.value.cpu_busy - $s.cpu_busy) / $hz) as $busy
				| (($d.value.cpu_idle - $s.cpu_idle) / $hz) as $idle
				| {guest_cpu_s_per_gb: ($busy / ($d.value.bytes / 1e9)),
				   guest_idle_share: ratio($idle; $busy + $idle),
				   board_cpu_s_per_gb: ((($d.value.self_cpu_us - $s.self_cpu_us) / 1e6) / ($d.value.bytes / 1e9))}
			end)
		end end;

def p1_runs($runs; $t; $hz):
	[$runs[] | select(.tool == $t) | {run: .run} + (.events | dl_rate($hz) // {}) | select(.mbps != null)];

def p1_tool($runs; $t; $hz):
	p1_runs($runs; $t; $hz)
	| {mbps: map(.mbps | rnd(2)), median_mbps: (map(.mbps) | median | rnd(2)),
	   guest_cpu_s_per_gb: (map(.guest_cpu_s_per_gb | select(. != null)) | median | rnd(2)),
	   guest_idle_share: (map(.guest_idle_share | select(. != null)) | median | rnd(3)),
	   board_cpu_s_per_gb: (map(.board_cpu_s_per_gb | select(. != null)) | median | rnd(2))};

# the median of flashd's rate over the rate of tool $t in the same round (each round
# runs every tool once, one after the other): host noise that spans a round cancels
def p1_paired($runs; $t; $hz):
	(p1_runs($runs; $t; $hz) | map({key: (.run | tostring), value: .mbps}) | from_entries) as $b
	| [p1_runs($runs; "flashd"; $hz)[] | select($b[.run | tostring] != null) | .mbps / $b[.run | tostring]]
	| {per_round: map(rnd(3)), median: (median | rnd(3))};

def p1_link($runs; $g):
	if ($runs | length) == 0 then null else
	($g.clk_tck // null) as $hz
	| {pump: p1_tool($runs; "pump"; $hz), pump_flashd_cfg: p1_tool($runs; "pump-flashd-cfg"; $hz),
	 pump_file: p1_tool($runs; "pump-file"; $hz),
	 fastboot: p1_tool($runs; "fastboot"; $hz), flashd: p1_tool($runs; "flashd"; $hz),
	 pump_self_mbps: ([$runs[] | select(.tool == "pump") | .pump.mbps] | median | rnd(2)),
	 flashd_minflt: ([$runs[] | select(.tool == "flashd") | .minflt | select(. != null)] | median)} as $t
	| $t + {
		method: "One emulated link (dummy_hcd bus 1, flashd-emu in fastboot mode), the same 64 MiB random raw image, rounds in which each tool runs once, one after the other: tests/bench/bulkpump (download: + 4 x 1 MiB async bulk transfers in flight, re-sending its own buffers), the same pump with flashd's transfer size and count, that pump sending the image file from a read-only mapping (--file: the data source every tool has to read), AOSP `fastboot flash mmc0`, flashd (plan `FB: download -f p1.img` + `FB: flash mmc0 p1.img`; flashd is started first and the board plugged after it, the flash's download is measured: the first one overlaps with the guest settling the board just plugged, which the other tools, run on a board plugged long before, never see; the result is awaited by a blocking flashctl watch, nothing polls during the run). Rate = bytes / (board-side time from the download: command to the last data byte), from the emulator's log. The ratios are medians over the rounds of flashd's rate / the other tool's rate in the same round (paired: noise of the shared host that spans a round cancels). Guest CPU per GB: busy clock ticks of all vCPUs over the same window (/proc/stat, logged by the board), per GB sent; idle share: the vCPUs' idle ticks over all ticks in that window.",
		runs: ($runs | map(select(.tool == "flashd")) | length),
		xfer: {size: $g.xfer_size, count: $g.xfers},
		paired: {vs_pump: p1_paired($runs; "pump"; $hz), vs_pump_file: p1_paired($runs; "pump-file"; $hz),
			 vs_pump_flashd_cfg: p1_paired($runs; "pump-flashd-cfg"; $hz), vs_fastboot: p1_paired($runs; "fastboot"; $hz)}} 
	| . + {
		ratio_vs_pump: .paired.vs_pump.median,
		ratio_vs_fastboot: .paired.vs_fastboot.median,
		ratio_vs_pump_file: .paired.vs_pump_file.median,
		ratio_of_medians_vs_pump: (ratio($t.flashd.median_mbps; $t.pump.median_mbps) | rnd(3)),
		ratio_pump_cfg_vs_pump: (ratio($t.pump_flashd_cfg.median_mbps; $t.pump.median_mbps) | rnd(3)),
		ratio_pump_file_vs_pump: (ratio($t.pump_file.median_mbps; $t.pump.median_mbps) | rnd(3)),
		target: {vs_pump: 0.97, vs_fastboot: 1.0}}
	| .met = (if .ratio_vs_pump == null or .ratio_vs_fastboot == null then null
		else .ratio_vs_pump >= 0.97 and .ratio_vs_fastboot >= 1.0 end)
	end;

# paced: the board takes data no faster than a high-speed bus (guest.link_mbps), the
# link the target is about; free: dummy_hcd as fast as the guest's CPUs go (runs of
# older data have no "link": free)
def p1($runs; $g):
	if ($runs | length) == 0 then null else
	{paced: p1_link([$runs[] | select(.link == "paced")]; $g),
	 free: p1_link([$runs[] | select((.link // "free") == "free")]; $g),
	 link_mbps: $g.link_mbps}
	| . + {met: .paced.met,
	       about: "The target is judged on the paced link (a high-speed bus's bulk limit). On the free link the bed is bound by the guest's CPUs, not by USB: the rate is how cheaply a tool moves a byte there, and single runs spread by +-25 % with the shared host."}
	end;


# ---------------------------------------------------------------- P2

def board_span:
	{t0: (first_ev("connect").ts), t1: (ev("boot") | map(select(.result == "booted")) | first | .ts),
	 wire: (ev("download-done") | map(.bytes) | add // 0)};

def p2_run($g; $payload):
	(.boards | map(board_span)) as $b
	| ($b | map(select(.t1 != null)) | length) as $booted
	| (.cpu_ticks / $g.clk_tck) as $cpu
	| {tool, n, booted: $booted,
	   wall_s: (if $booted == .n then ((($b | map(.t1) | max) - ($b | map(.t0) | min)) / 1e9 | rnd(2)) else null end),
	   cpu_s: ($cpu | rnd(2)),
	   gb: (.n * $payload / 1e9 | rnd(4)),
	   wire_mb: (($b | map(.wire) | add) / 1e6 | rnd(1)),
	   cpu_s_per_gb: ($cpu / (.n * $payload / 1e9) | rnd(2)),
	   cpu_s_per_wire_gb: (($b | map(.wire) | add) as $w | if $w > 0 then $cpu / ($w / 1e9) | rnd(2) else null end),
	   results_ok: (.results | map(select(.result == "ok")) | length),
	   results_failed: (.results | map(select(.result != "ok")) | length),
	   emmc_ok: (.emmc | if length == 0 then null else all(.emmc_ok) end)};

# where the time of one board goes, as the board saw it (any tool)
def split_board:
	(first_ev("connect")) as $rc
	| (map(select(.ev == "connect" and .phase == "fastboot")) | first) as $fc
	| (first_ev("sdp-first")) as $sf | (first_ev("jump")) as $j | (first_ev("fb-first")) as $ff
	| (map(select(.ev == "disconnect" and .reason == "reboot")) | first) as $rb
	| (ev("boot") | map(select(.result == "booted")) | first) as $bt
	| def ms(a; b): if a == null or b == null then null else ((b.ts - a.ts) / 1e6 | rnd(1)) end;
	{plug_to_first_sdp_ms: ms($rc; $sf), sdp_upload_ms: ms($sf; $j), reenum_ms: ms($j; $fc),
	 fastboot_plug_to_first_cmd_ms: ms($fc; $ff), fastboot_ms: ms($ff; $rb),
	 reboot_to_booted_ms: ms($rb; $bt), total_ms: ms($rc; $bt)};

# flashd vs uuu for each board count (P2 and P2 SPL)
def p2_by_n($runs; $g; $d):
	($runs | map(p2_run($g; $d.seed_payload_bytes))) as $r
	| ([$r[].n] | unique) as $ns
	| [$ns[] as $n
	   | ($r | map(select(.n == $n and .tool == "flashd")) | first) as $f
	   | ($r | map(select(.n == $n and .tool == "uuu")) | first) as $u
	   | {n: $n, flashd: $f, uuu: $u,
	      wall_ratio: (ratio($f.wall_s; $u.wall_s) | rnd(3)),
	      cpu_per_gb_ratio: (ratio($f.cpu_s_per_gb; $u.cpu_s_per_gb) | rnd(3))}];

def p2_met($by):
	if ($by | map(select(.wall_ratio == null or .cpu_per_gb_ratio == null)) | length) > 0 then null
	else ($by | all(.wall_ratio <= 0.6 and .cpu_per_gb_ratio <= 0.5)) end;

def p2($runs; $g; $d):
	if ($runs | length) == 0 then null else
	p2_by_n($runs; $g; $d) as $by
	| ($runs | map(select(.n == 1)) | map({key: .tool, value: {board: (.boards[0] | split_board),
	     flashd_steps: ([.results[].steps[]?] | map({text, ms, ok}))}}) | from_entries) as $split
	| {method: "The seed plan (tests/bench: SDP boot of a 307 KiB U-Boot, getvar, flash mbr/bootloader/uboot-env, raw->sparse rootfs, reboot) on N boards (flashd-emu, one dummy_hcd bus each, started in ROM mode at once, each exits when it booted what was flashed). flashd: started, ready, then the boards are plugged. uuu: Debian's, `uuu -d PLAN` started before the boards are plugged (daemon mode: NXP's advice for several boards, mfgtools #484; without -d uuu 1.4.193 aborts when the first board finishes). Wall = first board connect -> last board booted (emulator log, the same for both tools). CPU = utime+stime of the tool's process from before the plug to after the last board (/proc/PID/stat). GB flashed = N x the plan's image bytes; cpu_s_per_wire_gb divides by the bytes the boards received instead (raw->sparse sends fewer).",
	   payload_bytes: $d.seed_payload_bytes, rootfs_mib: $d.rootfs_mib,
	   by_n: $by,
	   target: {wall_ratio: 0.6, cpu_per_gb_ratio: 0.5},
	   met: p2_met($by),
	   seed_split: $split}
	end;

# where the time of one board goes on the SPL flow, as the board saw it (any tool)
def split_spl_board:
	(first_ev("connect")) as $rc
	| (map(select(.ev == "connect" and .phase == "spl")) | first) as $sc
	| (map(select(.ev == "connect" and .phase == "fastboot")) | first) as $fc
	| (first_ev("sdp-first")) as $sf | (first_ev("jump")) as $j
	| (first_ev("spl-sdp")) as $ss | (first_ev("spl-jump")) as $sj | (first_ev("fb-first")) as $ff
	| (map(select(.ev == "disconnect" and .reason == "reboot")) | first) as $rb
	| (ev("boot") | map(select(.result == "booted")) | first) as $bt
	| def ms(a; b): if a == null or b == null then null else ((b.ts - a.ts) / 1e6 | rnd(1)) end;
	{plug_to_first_sdp_ms: ms($rc; $sf), spl_upload_ms: ms($sf; $j), rom_jump_to_spl_plug_ms: ms($j; $sc),
	 spl_plug_to_first_cmd_ms: ms($sc; $ss), uboot_upload_ms: ms($ss; $sj), spl_jump_to_fastboot_plug_ms: ms($sj; $fc),
	 fastboot_plug_to_first_cmd_ms: ms($fc; $ff), fastboot_ms: ms($ff; $rb),
	 reboot_to_booted_ms: ms($rb; $bt), total_ms: ms($rc; $bt)};

# P2 on the SPL flow: the same boards, tools and figures as P2
def p2spl($runs; $g; $d):
	if ($runs | length) == 0 then null else
	p2_by_n($runs; $g; $d) as $by
	| ($runs | map(select(.n == 1)) | map({key: .tool, value: {board: (.boards[0] | split_spl_board),
	     flashd_steps: ([.results[].steps[]?] | map({text, ms, ok}))}}) | from_entries) as $split
	| {method: "P2 on the SPL flow: the same N boards (default i.MX6Q), tools and measures as P2, with the plan `SDP: boot -f flash.bin` (the ROM gets a \($d.spl_flash_bin_bytes // 0 | . / 1024 | floor) KiB flash.bin: a 67 KiB SPL-shaped i.MX image, IVT in OCRAM, mkimage -T imximage, then u-boot.img), `SDPV: write -f flash.bin -skipspl` and `SDPV: jump` (the SPL's SDP gadget 0525:b4a4 gets U-Boot proper: a legacy u-boot.img, payload as large as the seed's uboot-fastboot.imx, loaded at 0x17800000 - 0x40, CONFIG_SDP_LOADADDR), then the seed plan's FB lines. Built on the host by tests/bench/bench (bench_spl_data). Wall, CPU and GB as in P2 (GB = N x the FB lines' image bytes, the same as P2's).",
	   payload_bytes: $d.seed_payload_bytes, rootfs_mib: $d.rootfs_mib,
	   flash_bin_bytes: $d.spl_flash_bin_bytes,
	   by_n: $by,
	   target: {wall_ratio: 0.6, cpu_per_gb_ratio: 0.5, about: "P2's targets, applied to the SPL flow for comparison"},
	   met: p2_met($by),
	   spl_split: $split}
	end;

# ---------------------------------------------------------------- P3

# udev's add event of a device of PRODUCT (prefix) on board K's port, initialised in
# [T0, T1] (ns): USEC_INITIALIZED is udevd's own CLOCK_MONOTONIC stamp, taken when
# its rules are done, just before it announces the device to listeners
def udev_add($u; $k; $prod; $t0; $t1):
	"/usb\($k + 1)/\($k + 1)-1" as $suffix
	| [$u[] | select(.src == "UDEV" and .action == "add" and .usec_initialized != null
		and (.devpath | endswith($suffix)) and (.product | startswith($prod))
		and .usec_initialized * 1000 >= $t0 and .usec_initialized * 1000 <= $t1)]
	| last;

def p3_event($u):
	.board as $k | .events as $e
	| ($e | map(select(.ev == "connect" and .phase == "rom")) | first) as $rc
	| ($e | map(select(.ev == "connect" and .phase == "fastboot")) | first) as $fc
	| ($e | first_ev("sdp-first")) as $sf | ($e | first_ev("fb-first")) as $ff
	| ($e | map(select(.ev == "usb" and .event == "enable"))) as $en
	| def after($list; $t): $list | map(select(.ts >= $t.ts)) | first;
	def ms(a; b): if a == null or b == null then null else (b.ts - a.ts) / 1e6 end;
	# udev's add of the device between the board's connect $c and its first message $f
	def add($c; $f; $prod):
		if $c == null or $f == null then null else udev_add($u; $k; $prod; $c.ts; $f.ts) end;
	def lat($x; $f):
		if $x == null then null else ($f.ts - $x.usec_initialized * 1000) / 1e6 end;
	add($rc; $sf; "15a2/") as $rx
	| {tool, event, board: $k,
	 rom_udev_ms: lat($rx; $sf), fb_udev_ms: lat(add($fc; $ff; "525/a4a5/"); $ff),
	 rom_udev_monitor_ms: (if $rx == null then null else ($rx.t * 1e6 - $rx.usec_initialized) / 1e3 | rnd(2) end),
	 rom_config_ms: (if $rc == null then null else ms(after($en; $rc); $sf) end),
	 fb_config_ms: (if $fc == null then null else ms(after($en; $fc); $ff) end),
	 rom_bind_ms: ms($rc; $sf), fb_bind_ms: ms($fc; $ff)};

def p3_tool($ev; $t):
	($ev | map(select(.tool == $t))) as $x
	| if ($x | length) == 0 then null else
	  {events: ($x | length)}
	  + ([["rom_udev_ms", "fb_udev_ms", "rom_config_ms", "fb_config_ms", "rom_bind_ms", "fb_bind_ms"][]
	      | {key: ., value: (. as $f | [$x[][$f] | select(. != null)] | stats)}] | from_entries) end;

def p3($runs; $u):
	if ($runs | length) == 0 then null else
	($runs | map(p3_event($u))) as $ev
	| {method: "Boards plugged one at a time (ports 1-1..4-1 in turn, idle between plugs), plan SDP boot + getvar. rom_udev_ms: udev's add event of the ROM device (15a2:*) -> the board receives the first SDP report; fb_udev_ms: udev's add event of the fastboot device (0525:a4a5) -> the board receives the first fastboot command. The udev time is the device's USEC_INITIALIZED (udevd's CLOCK_MONOTONIC stamp when its rules are done, just before it announces the device; recorded with `udevadm monitor --udev --property`), the board time is the emulator's log, same clock. *_config_ms: from the board's FunctionFS ENABLE (the host kernel set the configuration, right after its add uevent) instead: includes udev's rule processing. *_bind_ms: from the emulator's gadget bind: includes enumeration. uuu: `uuu -d` with the same plan (it polls libusb every 200 ms).",
	   flashd: p3_tool($ev; "flashd"), uuu: p3_tool($ev; "uuu"),
	   target_median_ms: 20,
	   met: (p3_tool($ev; "flashd") as $f | if $f == null or $f.rom_udev_ms.median == null then null
		else $f.rom_udev_ms.median <= 20 and $f.fb_udev_ms.median <= 20 end),
	   events: $ev}
	end;

# ---------------------------------------------------------------- P4

def p4_run($g):
	{image, bytes, boards: .n, load_s: (.load_ms / 1000 | rnd(2)), cpu_s: (.cpu_ticks / $g.clk_tck | rnd(2)),
	 results_ok: (.results | map(select(.result == "ok")) | length),
	 vmhwm_mib: (.status.VmHWM / 1024 | rnd(1)),
	 peak_rss_mib: ([.samples[].vmrss] | max / 1024 | rnd(1)),
	 peak_anon_mib: ([.samples[].rssanon] | max / 1024 | rnd(1)),
	 peak_file_mib: ([.samples[].rssfile] | max / 1024 | rnd(1)),
	 peak_shmem_mib: ([.samples[].rssshmem] | max / 1024 | rnd(1))};

def p4($runs; $g):
	if ($runs | length) == 0 then null else
	($runs | map(p4_run($g))) as $r
	| ($r | map(.vmhwm_mib) | [min, max]) as $mm
	| ($r | map(.peak_anon_mib) | [min, max]) as $am
	| {method: "flashd freshly started per image, 8 boards (ROM mode) run `SDP: boot` + `FB: flash -raw2sparse mmc0 IMAGE`; IMAGE is raw: zeros with 16 runs of 1 MiB random data spread evenly, on ext4 (loop, sparse) in the guest. VmHWM from /proc/PID/status when all boards are done (peak resident set: anonymous + file-backed mappings, i.e. touched pages of the mmap'd image count); RssAnon/RssFile peaks from 5 samples a second. load_s = flashd start -> control socket answers (plan load: image checks and SHA-256).",
	   images: $r,
	   vmhwm_spread: (ratio($mm[1] - $mm[0]; $mm[0]) | rnd(3)),
	   anon_spread: (ratio($am[1] - $am[0]; $am[0]) | rnd(3)),
	   target: {vmhwm_mib: 32, spread: 0.10},
	   met: ($mm[1] <= 32 and (ratio($mm[1] - $mm[0]; $mm[0]) // 1) <= 0.10)}
	end;

# ---------------------------------------------------------------- P5

def p5($p):
	if $p == null then null else
	$p + {method: "tests/bench/sparse-scan on the host: a 512 MiB rootfs-like image in memory (about half random data in runs, half zeros, some fill runs), sparse_count_pieces and the sparse writer with raw2sparse, CPU time per core, best of 3. sha256: tests/bench/sha256-rate (plans hash every image at load), for context. plan_load: tests/bench/plan-load, a plan load of a disk image (1/4 random, 1/4 text, 1/2 zeros) raw and compressed four ways (decompression into the cache, both hashes, block map), then the same load with the payload in the cache, then a reload that reuses the unchanged image; wall time, MB/s of payload per CPU second. history: tests/bench/history, the daemon's control server and journal on a 100,000-record (157 MB) journal: latency of history requests, status latency while 8 clients loop history --limit 10000, and 10 clients that never read a limit 10000 reply.",
	      target_gbps_per_core: 2,
	      met: ($p.count_gbps_per_core >= 2 and $p.writer_gbps_per_core >= 2)}
	end;

# ---------------------------------------------------------------- clients

# where one board's time goes (ms), from its log and udevd's monitor ($u): udev =
# the kernel and udevd, from the board's ENABLE to the device's USEC_INITIALIZED
# (ROM and fastboot device); flashd = from there to the board's first SDP report
# or fastboot command (udevd's announcement, flashd's loop, the open: an upper
# bound of flashd's share), plus flashd's turnarounds: each reply the board sent
# -> its next command (the USB transit both ways included); board = connect ->
# booted. null where the monitor missed a device.
def board_split($u; $k):
	. as $e
	| ($e | map(select(.ev == "connect" and .phase == "rom")) | first) as $rc
	| ($e | map(select(.ev == "connect" and .phase == "fastboot")) | first) as $fc
	| ($e | first_ev("sdp-first")) as $sf | ($e | first_ev("fb-first")) as $ff
	| ($e | map(select(.ev == "usb" and .event == "enable"))) as $en
	| def after($t): $en | map(select(.ts >= $t.ts)) | first;
	(if $rc == null or $sf == null then null else udev_add($u; $k; "15a2/"; $rc.ts; $sf.ts) end) as $rx
	| (if $fc == null or $ff == null then null else udev_add($u; $k; "525/a4a5/"; $fc.ts; $ff.ts) end) as $fx
	| (reduce $e[] as $x ({last: null, sum: 0};
		if $x.ev == "sdp-reply" or ($x.ev == "fb-reply" and ($x.reply | startswith("DATA") | not)) then .last = $x.ts
		elif $x.ev == "disconnect" then .last = null
		elif ($x.ev == "sdp" or $x.ev == "fb-cmd") and .last != null then .sum += $x.ts - .last | .last = null
		else . end) | .sum / 1e6) as $turn
	| ($e | board_span) as $span
	| if $rx == null or $fx == null or $span.t1 == null then null else
	  {udev: ((($rx.usec_initialized * 1000 - after($rc).ts) + ($fx.usec_initialized * 1000 - after($fc).ts)) / 1e6),
	   flashd: ((($sf.ts - $rx.usec_initialized * 1000) + ($ff.ts - $fx.usec_initialized * 1000)) / 1e6 + $turn),
	   turnaround: $turn,
	   board: (($span.t1 - $span.t0) / 1e6)} end;

def clients_run($g):
	(.udev // []) as $u
	| (.boards | to_entries | map(.key as $k | .value | board_split($u; $k))) as $split
	| (.boards | map(board_span)) as $b
	| ($b | map(select(.t1 != null)) | length) as $booted
	| {mode, round, booted: $booted,
	   wall_s: (if $booted == 8 then ((($b | map(.t1) | max) - ($b | map(.t0) | min)) / 1e9 | rnd(2)) else null end),
	   board_s_median: ($b | map(select(.t1 != null) | (.t1 - .t0) / 1e9) | median | rnd(2)),
	   cpu_s: (.cpu_ticks / $g.clk_tck | rnd(2)),
	   results_ok: (.results | map(select(.result == "ok")) | length),
	   vmhwm_mib: (.samples | map(.vmhwm) | max // null | if . == null then null else . / 1024 | rnd(1) end),
	   watch: (.watch // null), stress_status,
	   split_ms: (if ($split | map(select(. != null)) | length) == 0 then null else
		($split | map(select(. != null))) as $x
		| {n: ($x | length)} + ([["udev", "flashd", "turnaround", "board"][] as $f
			| {key: $f, value: ([$x[][$f]] | median | rnd(1))}] | from_entries) end)};

def clients($runs; $g):
	if ($runs | length) == 0 then null else
	($runs | map(clients_run($g))) as $r
	| ([$r[].round] | unique) as $rounds
	| [$rounds[] as $k
	   | ($r | map(select(.round == $k and .mode == "quiet")) | first) as $q
	   | ($r | map(select(.round == $k and .mode == "loaded")) | first) as $l
	   | {round: $k, quiet: $q, loaded: $l,
	      wall_ratio: (ratio($l.wall_s; $q.wall_s) | rnd(3)),
	      board_ratio: (ratio($l.board_s_median; $q.board_s_median) | rnd(3)),
	      # the loaded batch's extra time per board in flashd's share, over the quiet
	      # board's time
	      flashd_share: (if $q.split_ms == null or $l.split_ms == null then null
			     else ratio($l.split_ms.flashd - $q.split_ms.flashd; $q.split_ms.board) | rnd(4) end)}] as $by
	| ($by | map(.wall_ratio) | map(select(. != null)) | median | rnd(3)) as $wr
	| {method: "8 boards (flashd-emu, one dummy_hcd bus each, started in ROM mode at once) run the seed plan as in P2, with flashd freshly started per batch; each round a quiet batch (no client) and a loaded one (tests/stress/ctlstress: 200 clients send `watch` before the boards are plugged, 10 of them never read, with a 4 KiB receive buffer; for both batches flashd max-clients 256 and client-queue 16K), in turn quiet first and loaded first. Each board's link is paced at 7 MB/s (BENCH_CLIENT_LINK_MBPS: eight boards sharing one high-speed hub's 53 MB/s), so boards wait on their link as real ones do instead of competing with flashd and the clients for the guest's two vCPUs. Wall = first board connect -> last board booted (emulator logs); board = one board's connect -> booted, median of 8. VmHWM of flashd over the batch (5 samples/s). The watchers' own check (ctlstress exits 1): every reading watcher sees every event (seq without gaps) and stays connected.",
	   emu_nice: ($g.emu_nice // 0), flashd_nice: ($g.flashd_nice // 0),
	   emu_cpus: ($g.emu_cpus // ""), station_cpus: ($g.station_cpus // ""),
	   rounds: $by,
	   wall_ratio_median: $wr,
	   board_ratio_median: ($by | map(.board_ratio) | map(select(. != null)) | median | rnd(3)),
	   flashd_share_median: ($by | map(.flashd_share) | map(select(. != null)) | median | rnd(4)),
	   # loaded - quiet of each part, per round, median of the rounds (ms)
	   split_delta_ms: ([$by[] | select(.quiet.split_ms != null and .loaded.split_ms != null)] as $d
		| if ($d | length) == 0 then null else
		  [["udev", "flashd", "turnaround", "board"][] as $f
		   | {key: $f, value: ([$d[] | .loaded.split_ms[$f] - .quiet.split_ms[$f]] | median | rnd(1))}]
		  | from_entries end),
	   split_method: "per board (median of the batch, ms): udev = the board's USB ENABLE -> udevd's USEC_INITIALIZED of the device, ROM and fastboot; flashd = USEC_INITIALIZED -> the board's first SDP report or fastboot command (udevd's announcement, flashd's loop, the open), plus every reply the board sent -> its next command (turnaround; the USB transit both ways included): an upper bound of flashd's share; board = connect -> booted. flashd's share of the slowdown = (loaded flashd - quiet flashd) / quiet board, median of the rounds.",
	   target: {wall_ratio: 1.02},
	   met: (if $wr == null then null else ($wr <= 1.02 and ($r | all(.stress_status == 0))) end)}
	end;

# ---------------------------------------------------------------- verify

def verify_run($g):
	.results as $res
	| {mode, round,
	   ok: ($res | map(select(.result == "ok")) | length),
	   board_ms: ($res | map(.end_ms - .start_ms) | median),
	   fastboot_ms: ($res | map([.steps[] | select(.text | startswith("FB:")) | .ms] | add) | median),
	   rootfs_ms: ($res | map([.steps[] | select(.text | test("rootfs")) | .ms] | add) | median),
	   checked_bytes: ($res | map([.regions[]? | .checked // 0] | add // 0) | max // 0),
	   regions_verified: ($res | map([.regions[]? | select(.verified)] | length) | min),
	   cpu_s: (.cpu_ticks / $g.clk_tck | rnd(2))};

def verify($runs; $g):
	if ($runs | length) == 0 then null else
	($runs | map(verify_run($g))) as $r
	| [([$r[].round] | unique)[] as $k
	   | ($r | map(select(.round == $k and .mode == "off")) | first) as $off
	   | ($r | map(select(.round == $k and .mode == "on")) | first) as $on
	   | {round: $k, off: $off, on: $on,
	      cost_ms: (if $on.fastboot_ms == null or $off.fastboot_ms == null then null
			else $on.fastboot_ms - $off.fastboot_ms end),
	      checked_mb: ($on.checked_bytes / 1e6 | rnd(1))}
	   | . + {s_per_gb: (if .cost_ms == null or .on.checked_bytes == 0 then null
			     else .cost_ms / 1000 / (.on.checked_bytes / 1e9) | rnd(2) end)}] as $by
	| {method: "one board (flashd-emu, the seed images of P2) runs the seed plan, then seed-verify.lst: the same plan with every flash line read back (mbr -verify, bootloader and uboot-env -verify-at, rootfs -verify-part 1: part start, setexpr, mmc read into ${loadaddr} and crc32 -v per piece of at most max-download-size), flashd freshly started per run; rounds alternate the order. Cost = the board's fastboot steps (journal step times) with read-back minus without; per GB = cost / bytes read back. The emulator reads its eMMC file at memory speed: a real board adds its eMMC read time (bytes / read rate) and its CRC-32 time on the Cortex-A9.",
	   rounds: $by,
	   cost_ms_median: ($by | map(.cost_ms) | map(select(. != null)) | median),
	   s_per_gb_median: ($by | map(.s_per_gb) | map(select(. != null)) | median | rnd(2)),
	   all_verified: ($r | map(select(.mode == "on")) | all(.regions_verified == 4 and .ok == 1))}
	end;

# ---------------------------------------------------------------- web

# ---------------------------------------------------------------- P6

# a board's downloads as [start, end] ns: the emulator's "download" (it answered
# DATA) and "download-done" (the last byte came), in order
def dl_intervals:
	(ev("download") | map(.ts)) as $s | (ev("download-done") | map(.ts)) as $e
	| [range(0; [($s | length), ($e | length)] | min) as $i | [$s[$i], $e[$i]]];

# seconds in the union of intervals: how long any download was under way
def union_s:
	sort_by(.[0])
	| reduce .[] as $iv ([]; if length > 0 and $iv[0] <= .[-1][1]
		then .[-1][1] = ([.[-1][1], $iv[1]] | max) else . + [$iv] end)
	| map(.[1] - .[0]) | add // 0 | . / 1e9;

# one batch as the boards saw it: first connect -> last booted, and per bus group the
# fastboot bytes its boards took (the emulator's "bus" event at exit: board_bytes),
# how long a download was under way on it (busy_s) and the rate that gave
def p6_run($g):
	(.boards | map({t0: (first_ev("connect").ts),
			t1: (ev("boot") | map(select(.result == "booted")) | first | .ts),
			bus: (ev("bus") | last), dl: dl_intervals})) as $b
	| ($b | map(select(.t1 != null)) | length) as $booted
	| ([$b[].dl[]] | sort_by(.[0])) as $dls
	| {tool, n, batch, per_bus, buses, bus_mbps, emmc_mbps, round, booted: $booted,
	   rates: "\(.bus_mbps)-\(.emmc_mbps)",
	   pre_s: (if ($dls | length) == 0 then null else ($dls[0][0] - ($b | map(.t0) | min)) / 1e9 end),
	   post_s: (if ($dls | length) == 0 or $booted != .n then null
		    else (($b | map(.t1) | max) - ($dls | map(.[1]) | max)) / 1e9 end),
	   wall_s: (if $booted == .n then ((($b | map(.t1) | max) - ($b | map(.t0) | min)) / 1e9) else null end),
	   groups: ($b | map(select(.bus != null)) | group_by(.bus.group)
		    | map({group: .[0].bus.group, mbps: .[0].bus.mbps, boards: length,
			   bytes: (map(.bus.board_bytes) | add),
			   busy_s: ([.[].dl[]] | union_s)}
			  | . + {delivered_mbps: (if .busy_s > 0 then .bytes / .busy_s / 1e6 else null end)})),
	   cpu_s: (.cpu_ticks / $g.clk_tck),
	   results_ok: (.results | map(select(.result == "ok")) | length),
	   emmc_ok: (.emmc | if length == 0 then null else all(.emmc_ok) end)};

# the lower bound of one batch (issue 15): the busiest bus's bytes at its rate, or one
# board's serial time (the same round's 1x1 batch at the same rates: one board alone
# on its bus); and what the bus did: the busiest bus's time with a download under way
# (busy_s), the rate the bed delivered then, and the batch's time without one (idle_s:
# before the first download, between downloads and after the last)
def p6_lb($solo):
	([.groups[] | .bytes / (.mbps * 1e6)] | max) as $bus
	| (.groups | max_by(.bytes)) as $top
	| {bus_s: $bus, solo_s: $solo.wall_s,
	   lb_s: (if $bus == null or $solo.wall_s == null then null else [$bus, $solo.wall_s] | max end),
	   lb_fixed_s: (if $bus == null or $solo.wall_s == null or $solo.pre_s == null or $solo.post_s == null then null
			else [$solo.pre_s + $bus + $solo.post_s, $solo.wall_s] | max end),
	   busy_s: $top.busy_s, delivered_mbps: $top.delivered_mbps,
	   idle_s: (if .wall_s == null or $top.busy_s == null then null else .wall_s - $top.busy_s end)};

def p6($runs; $g; $d):
	if ($runs | length) == 0 then null else
	($runs | map(p6_run($g))) as $r
	| ($r | map(select(.n == 1)) | map({key: "\(.rates) \(.round)", value: {wall_s, pre_s, post_s}}) | from_entries) as $solo
	| ($r | map(select(.n > 1)) | map(. + p6_lb($solo["\(.rates) \(.round)"] // {}))
	   | map(. + {lb_ratio: ratio(.wall_s; .lb_s), lb_fixed_ratio: ratio(.wall_s; .lb_fixed_s)})) as $b
	| ([$b[].batch] | unique) as $batches
	| {method: "The seed plan on a rootfs holding \($d.p6_rootfs_data_mib // "?") MiB of data (\($d.p6_payload_bytes // 0 | . / 1e6 | rnd(1)) MB of images per board) on boards that share a bus. A batch NxG-B-E: G emulated bus groups of N boards (flashd-emu --bus-group: one pacing budget of B MB/s for the fastboot data of all the group's boards), each eMMC writing at E MB/s (--emmc-mbps: the flash command's OKAY after the write, as U-Boot's fb_mmc.c). flashd names the groups as buses in flashd.conf (bus lines) and runs with its defaults (on: bus-scheduling on, fifo, bus-downloads 2, bus-small 1M, bus-piece 16M), with bus-scheduling off, and with one thing changed (on the first batch: one: bus-downloads 1; shortest: bus-order shortest; whole: bus-piece 0; on 8x1-53-25: big: 1 MiB bulk transfers, two in flight, as uuu's 1 MiB writes); uuu -d as in P2. All the batch's boards are plugged at once in ROM mode. Wall = first board connect -> last board booted (emulator log). LB = max(the busiest group's fastboot bytes / B, one board's serial time), the serial time being the same round's 1x1 batch at the same rates (one board alone on its bus, flashd). LB+fixed = max(that board's time before its first download + the bus term + its time after its last download, its serial time): the first download of a batch cannot start before a board went through SDP and re-enumeration, and the last board still writes and boots after its last download. Ratio = each batch's wall / its LB (median of rounds); vs uuu = median wall / uuu's median wall. Bus busy = the union of the busiest bus's download intervals (emulator: DATA answered -> last byte in); idle = wall - busy (SDP, re-enumeration, gaps, the last eMMC writes and boot); delivered = its bytes / busy: what the bed moved, which under TCG falls short of B when the guest's CPUs are busy.",
	   rootfs_data_mib: $d.p6_rootfs_data_mib,
	   solo: ($solo | map_values(map_values(rnd(2)))),
	   batches: [$batches[] as $t
		| ($b | map(select(.batch == $t))) as $tb
		| ($tb | map(select(.tool == "uuu")) | map(.wall_s) | map(select(. != null)) | median) as $uw
		| {batch: $t, n: $tb[0].n, per_bus: $tb[0].per_bus, buses: $tb[0].buses,
		   bus_mbps: $tb[0].bus_mbps, emmc_mbps: $tb[0].emmc_mbps,
		   lb_s: ($tb | map(.lb_s) | map(select(. != null)) | median | rnd(2)),
		   lb_fixed_s: ($tb | map(.lb_fixed_s) | map(select(. != null)) | median | rnd(2)),
		   bus_s: ($tb | map(.bus_s) | map(select(. != null)) | median | rnd(2)),
		   tools: ([$tb[].tool] | unique | map(. as $tool
			| ($tb | map(select(.tool == $tool))) as $x
			| ($x | map(.wall_s) | map(select(. != null)) | median) as $w
			| {key: $tool, value: {rounds: ($x | length),
				wall_s: ($w | rnd(2)),
				lb_ratio: ($x | map(.lb_ratio) | map(select(. != null)) | median | rnd(3)),
				lb_s: ($x | map(.lb_s) | map(select(. != null)) | median | rnd(2)),
				lb_fixed_s: ($x | map(.lb_fixed_s) | map(select(. != null)) | median | rnd(2)),
				bus_s: ($x | map(.bus_s) | map(select(. != null)) | median | rnd(2)),
				lb_ratio_per_round: ($x | map(.lb_ratio | rnd(3))),
				lb_fixed_ratio: ($x | map(.lb_fixed_ratio) | map(select(. != null)) | median | rnd(3)),
				vs_uuu: (ratio($w; $uw) | rnd(3)),
				cpu_s: ($x | map(.cpu_s) | median | rnd(2)),
				busy_s: ($x | map(.busy_s) | map(select(. != null)) | median | rnd(2)),
				idle_s: ($x | map(.idle_s) | map(select(. != null)) | median | rnd(2)),
				delivered_mbps: ($x | map(.delivered_mbps) | map(select(. != null)) | median | rnd(1)),
				booted: ($x | map(.booted) | add), boards: ($x | map(.n) | add),
				results_ok: (if $tool == "uuu" then null else $x | map(.results_ok) | add end),
				emmc_ok: ($x | map(.emmc_ok) | if any(. == null) then null else all end)}})
			| from_entries)}],
	   target: {lb_ratio: 1.05, vs_uuu: 0.7}}
	| . + {met: (.batches | map(.tools.on // null) | if any(. == null or .lb_ratio == null or .vs_uuu == null) then null
		     else all(.lb_ratio <= 1.05 and .vs_uuu <= 0.7) end)}
	end;

# ---------------------------------------------------------------- P7

def p7($runs; $u; $g):
	if ($runs | length) == 0 then null else
	($runs | map(select(.event != null)) | map(p3_event($u))) as $ev
	| ($runs | map(select(.event == null))) as $batches
	| ([$ev[].tool] | unique) as $modes
	| {method: "Board 7 plugged again and again on a port of its own plan (SDP boot + getvar, as P3) while, unless idle, boards 0-6 run the seed plan over and over (a fresh blank board each time one booted, links paced at 7 MB/s as in the part clients), flashd fresh per mode. reload: `flashctl reload` every second meanwhile; storm: waves of 50 watch clients (each wave connects, watches for 2 s with 5 never reading, and drops: tests/stress/ctlstress). The figure is P3's rom_udev_ms: udev's add of the ROM device (USEC_INITIALIZED) -> the board's first SDP report (emulator log, same clock). Meanwhile a `flashctl status` every 0.5 s gives the control clients' round trip (the client's start included): the clients come after the boards' events in flashd's loop.",
	   modes: [$modes[] as $m | {mode: $m} + p3_tool($ev; $m)
		   + {udev_monitor_ms: ($ev | map(select(.tool == $m) | .rom_udev_monitor_ms // empty) | median)}
		   + ($batches | map(select(.mode == $m)) | first
		      | if . == null then {} else
			{churn_results_ok: (.results | map(select(.result == "ok" and .port != "8-1")) | length),
			 churn_results_failed: (.results | map(select(.result != "ok" and .port != "8-1")) | length),
			 reloads, waves, cpu_s: (.cpu_ticks / $g.clk_tck | rnd(2)),
			 status_ms: {n: (.status_ms // [] | length), median: (.status_ms // [] | median),
				     max: (.status_ms // [] | max)},
			 flashd_plug_to_sdp_ms: (.results | map(select(.port == "8-1") | .plug_to_sdp_ms // empty)
						 | {n: length, median: median, max: max}),
			 flashd_split_ms: (.split // [] | {n: length,
				start: (map(.start) | median | rnd(2)), open: (map(.open) | median | rnd(2)),
				first_step: (map(.first // empty) | median | rnd(2))}),
			 cpu_wait_ms_per_slice: (if .sched0 == null then null else
				[.sched0, .sched1] | map(split(" ") | map(tonumber))
				| ((.[1][1] - .[0][1]) / 1e6) / ([.[1][2] - .[0][2], 1] | max) | rnd(2) end),
			 cpu_wait_s: (if .sched0 == null then null else
				[.sched0, .sched1] | map(split(" ") | map(tonumber)) | (.[1][1] - .[0][1]) / 1e9 | rnd(2) end)} end)],
	   target_median_ms: 20}
	| . + {met: (.modes | if length == 0 or any(.rom_udev_ms.median == null) then null
		     else all(.rom_udev_ms.median <= 20) end)}
	end;

def kib_mib: if . == null then null else . / 1024 | rnd(1) end;

def web_run($g):
	(.boards | map(board_span)) as $b
	| ($b | map(select(.t1 != null)) | length) as $booted
	| {mode, round, booted: $booted,
	   wall_s: (if $booted == 8 then ((($b | map(.t1) | max) - ($b | map(.t0) | min)) / 1e9 | rnd(2)) else null end),
	   board_s_median: ($b | map(select(.t1 != null) | (.t1 - .t0) / 1e9) | median | rnd(2)),
	   cpu_s: (.cpu_ticks / $g.clk_tck | rnd(2)),
	   web_cpu_s: (.web_cpu_ticks / $g.clk_tck | rnd(2)),
	   web_cpu_s_all: (.web_cpu_ticks_all / $g.clk_tck | rnd(2)),
	   web_seconds_all: (.web_seconds_all / 1000 | rnd(1)),
	   results_ok: (.results | map(select(.result == "ok")) | length),
	   vmhwm_mib: (.samples | map(.vmhwm) | max | kib_mib),
	   web_vmhwm_mib: (.web_samples | map(.vmhwm) | max | kib_mib),
	   web_rss_max_mib: (.web_samples | map(.vmrss) | max | kib_mib),
	   web_rss_end_mib: (.web_samples | map(select(.vmrss > 0)) | last | .vmrss // null | kib_mib),
	   web_samples: (.web_samples | length),
	   load_cpu_s: (if .load_cpu_ticks == null then null else .load_cpu_ticks / $g.clk_tck | rnd(2) end),
	   guest_busy_share: (if .guest_busy_ticks == null then null
			      else ratio(.guest_busy_ticks; .guest_busy_ticks + .guest_idle_ticks) | rnd(3) end),
	   load: (.load // null), load_status};

def web($runs; $g):
	if ($runs | length) == 0 then null else
	($runs | map(web_run($g))) as $r
	| [([$r[].round] | unique)[] as $k
	   | ($r | map(select(.round == $k and .mode == "quiet")) | first) as $q
	   | ($r | map(select(.round == $k and .mode == "loaded")) | first) as $l
	   | {round: $k, quiet: $q, loaded: $l,
	      wall_ratio: (ratio($l.wall_s; $q.wall_s) | rnd(3)),
	      board_ratio: (ratio($l.board_s_median; $q.board_s_median) | rnd(3))}] as $by
	| ($r | map(select(.mode == "loaded") | .load | select(. != null))) as $loads
	| {method: "8 boards (flashd-emu, started in ROM mode at once, each link paced at BENCH_CLIENT_LINK_MBPS as in the part clients) run the seed plan, with flashd and flashd-web (listening on the guest's 127.0.0.1:9477, default --max-sse 64) freshly started per batch; each round a quiet batch (flashd-web running, no HTTP client) and a loaded one, the order alternating. Loaded: tests/bench/webload (one process, poll(2)) opens 50 `GET /events` streams that read everything, and once all have their 200 and a first event the boards are plugged; from its start it sends 20 `GET /metrics` a second, evenly spread, each on a connection of its own, read to the end (status, latency, size of each recorded; a scrape due while 64 are in flight is skipped, as Prometheus scrapes a target once at a time; failed = no connection, a status other than 200, no flashd_web_sse_clients in the body, or no end within 10 s) and keeps both up until 60 s have passed and the batch has ended. Wall = first board connect -> last board booted (emulator logs); board = one board's connect -> booted, median of 8. CPU seconds of flashd and of flashd-web over the batch (boards plugged -> 8 results), flashd-web's also over its whole run (start -> stop); VmHWM and RSS of both sampled 5 times a second. Guest busy = the vCPUs' busy ticks over all ticks during the batch (/proc/stat); webload CPU = the load generator's own CPU seconds over its run. Events = `event:` lines each SSE client received; the gauge flashd_web_sse_clients as the last scrape saw it.",
	   rounds: $by,
	   wall_ratio_median: ($by | map(.wall_ratio) | map(select(. != null)) | median | rnd(3)),
	   board_ratio_median: ($by | map(.board_ratio) | map(select(. != null)) | median | rnd(3)),
	   web_vmhwm_peak_mib: {quiet: ($r | map(select(.mode == "quiet") | .web_vmhwm_mib) | max),
				loaded: ($r | map(select(.mode == "loaded") | .web_vmhwm_mib) | max)},
	   scrapes: ($loads | map(.scrapes) | add), scrapes_failed: ($loads | map(.scrapes_failed) | add),
	   scrapes_skipped: ($loads | map(.scrapes_skipped // 0) | add),
	   sse_lost: ($loads | map(.sse_lost) | add),
	   target: "flash times unchanged (loaded wall = quiet wall), flashd-web RSS bounded"}
	end;

def report:
	{bench: "flashd", date: ($host[0].date // null), host: $host[0], data: $data[0], parts: $parts[0],
	 guest: ($g1[0] // $g2[0] // $g2spl[0] // $g3[0] // $g4[0] // $gc[0] // $gv[0] // $gw[0] // $g6[0] // $g7[0]),
	 p1_link: p1($p1[0]; $g1[0]),
	 p2_boards: p2($p2[0]; $g2[0]; $data[0]),
	 p2_spl_flow: p2spl($p2spl[0]; $g2spl[0]; $data[0]),
	 p3_latency: p3($p3[0]; $udev[0]),
	 p4_memory: p4($p4[0]; $g4[0]),
	 p5_sparse_scan: p5($p5[0]),
	 clients: clients($clients[0]; $gc[0]),
	 verify: verify($verify[0]; $gv[0]),
	 web: web($web[0]; $gw[0]),
	 p6_bus: p6($p6[0]; $g6[0]; $data[0]),
	 p7_load: p7($p7[0]; $udev7[0]; $g7[0]),
	 scale: ($scale[0] | if . == null then null else
		{method: "The soak (tests/vm/soak/flashd-soak.sh) on every port the guest has (dummy_hcd num=N), every board fault-free: each port takes a fresh blank board running the seed plan (2 MiB rootfs) as soon as the last one's record is in, until the count is reached. Every 10 s `flashctl stats` gives flashd's RSS, descriptors and loop events, /proc its CPU ticks. CPU per board = flashd's CPU from the idle start to the idle end / boards; RSS per port = (peak RSS - idle RSS) / ports. Growth: RSS, descriptors and loop events from board 100 on (min-max), and idle at start vs idle at end (the soak fails unless descriptors and loop events are back where they began)."} + . end)};

# ---------------------------------------------------------------- table

def pad(n): tostring | if length >= n then . else . + (" " * (n - length)) end;
def num: if . == null then "-" else tostring end;
def verdict: if . == null then "n/a" elif . then "met" else "MISSED" end;

def table:
	"flashd benchmark \(.date // "") — \(.host.cpu // "?"), \(.host.cpus // "?") CPUs; guest: \(.guest.kernel // "?"), \(.guest.guest_cpus // "?") vCPUs (TCG)",
	"Ratios are the figures; absolute times are context (emulated USB, TCG).",
	"Host load (1-min average) before/after each part: \(.parts // {} | to_entries | map(select(.value.host_load_before != null) | "\(.key) \(.value.host_load_before)/\(.value.host_load_after)\(if .value.host_load_max != null then " (max \(.value.host_load_max))" else "" end)") | join(", "))",
	"",
	(.p1_link | if . == null then "P1 link efficiency: not run" else
		"P1 link efficiency (one emulated link, MB/s and guest CPU-s/GB medians)   target >=0.97 x pump, >=1.0 x fastboot on the paced link: \(.met | verdict)",
		((["paced", "paced: the board takes at most \(.link_mbps // "-") MB/s (high-speed bulk limit)"], ["free", "free: dummy_hcd as fast as the guest's CPUs allow"]) as [$l, $title]
		| .[$l] | select(. != null) |
		"  \($title), \(.runs) round\(if .runs == 1 then "" else "s" end)",
		"   tool                   MB/s     guest CPU s/GB  idle share  board CPU s/GB",
		((["pump", "bulkpump 4x1MiB"], ["pump_flashd_cfg", "bulkpump \(.xfer.count)x\(.xfer.size / 1024)KiB"],
		 ["pump_file", "bulkpump \(.xfer.count)x\(.xfer.size / 1024)KiB file"], ["fastboot", "AOSP fastboot"], ["flashd", "flashd"]) as [$k, $n]
		| .[$k] | "   \($n | pad(22)) \(.median_mbps | num | pad(8)) \(.guest_cpu_s_per_gb | num | pad(15)) \(.guest_idle_share | num | pad(11)) \(.board_cpu_s_per_gb | num)"),
		"   flashd / tool in the same round (median): \(.ratio_vs_pump | num) x pump, \(.paired.vs_pump_flashd_cfg.median | num) x pump with flashd's settings, \(.ratio_vs_pump_file | num) x file pump, \(.ratio_vs_fastboot | num) x fastboot",
		"   per round vs pump: \(.paired.vs_pump.per_round | map(tostring) | join(" ")); vs file pump: \(.paired.vs_pump_file.per_round | map(tostring) | join(" "))",
		"   (ratio of medians vs pump \(.ratio_of_medians_vs_pump | num); pump's own clock \(.pump_self_mbps | num) MB/s; flashd's minor faults per run \(.flashd_minflt | num))") end),
	"",
	(.p2_boards | if . == null then "P2 many boards: not run" else
		"P2 many boards (seed plan, \(.payload_bytes / 1e6 | rnd(1)) MB/board)    target wall <=0.6 x uuu, CPU/GB <=0.5 x uuu: \(.met | verdict)",
		"   N  flashd wall s  uuu wall s  ratio   flashd CPU s/GB  uuu CPU s/GB  ratio   ok(f/u)",
		(.by_n[] | "   \(.n | pad(2)) \(.flashd.wall_s | num | pad(14)) \(.uuu.wall_s | num | pad(11)) \(.wall_ratio | num | pad(7)) \(.flashd.cpu_s_per_gb | num | pad(16)) \(.uuu.cpu_s_per_gb | num | pad(13)) \(.cpu_per_gb_ratio | num | pad(7)) \(.flashd.booted | num)/\(.uuu.booted | num)") end),
	"",
	(.p2_spl_flow | if . == null then "P2 SPL flow: not run" else
		"P2 SPL flow (ROM -> SPL -> U-Boot proper over SDPV, then the seed plan's FB lines)    P2's targets: \(.met | verdict)",
		"   N  flashd wall s  uuu wall s  ratio   flashd CPU s/GB  uuu CPU s/GB  ratio   ok(f/u)",
		(.by_n[] | "   \(.n | pad(2)) \(.flashd.wall_s | num | pad(14)) \(.uuu.wall_s | num | pad(11)) \(.wall_ratio | num | pad(7)) \(.flashd.cpu_s_per_gb | num | pad(16)) \(.uuu.cpu_s_per_gb | num | pad(13)) \(.cpu_per_gb_ratio | num | pad(7)) \(.flashd.booted | num)/\(.uuu.booted | num)"),
		"   eMMC of the 1-board runs byte for byte: flashd \(.by_n[] | select(.n == 1) | .flashd.emmc_ok | num), uuu \(.by_n[] | select(.n == 1) | .uuu.emmc_ok | num)" end),
	"",
	(.p3_latency | if . == null then "P3 latency: not run" else
		"P3 latency, ms (udev add -> first report/command; median / max)   target median <=20 ms: \(.met | verdict)",
		"   tool    events  ROM->first SDP   fastboot->first cmd   (from SET_CONFIGURATION: ROM / fastboot medians)",
		((["flashd", "uuu"][]) as $t | .[$t] | select(. != null)
		 | "   \($t | pad(7)) \("\(.rom_udev_ms.n)/\(.events)" | pad(7)) \("\(.rom_udev_ms.median | num) / \(.rom_udev_ms.max | num)" | pad(16)) \("\(.fb_udev_ms.median | num) / \(.fb_udev_ms.max | num)" | pad(21)) \(.rom_config_ms.median | num) / \(.fb_config_ms.median | num)") end),
	"",
	(.p4_memory | if . == null then "P4 memory: not run" else
		"P4 memory, flashd with \(.images[0].boards) boards (MiB)   target VmHWM <=32 MiB, spread <=10 %: \(.met | verdict)",
		"   image  VmHWM   peak anon  peak file  load s  CPU s  ok",
		(.images[] | "   \(.image | pad(6)) \(.vmhwm_mib | num | pad(7)) \(.peak_anon_mib | num | pad(10)) \(.peak_file_mib | num | pad(10)) \(.load_s | num | pad(7)) \(.cpu_s | num | pad(6)) \(.results_ok)"),
		"   spread smallest -> largest: VmHWM \(.vmhwm_spread | num), anonymous \(.anon_spread | num)" end),
	"",
	(.p5_sparse_scan | if . == null then "P5 raw->sparse scan: not run" else
		"P5 raw->sparse scan (host)   target >=2 GB/s per core: \(.met | verdict)",
		"   count pieces \(.count_gbps_per_core) GB/s per core, writer \(.writer_gbps_per_core) GB/s per core",
		(.sha256 | select(length > 0) | "   (context: SHA-256 at plan load \(to_entries | map("\(.key | sub("_mbps"; "")) \(.value) MB/s") | join(", ")))"),
		(.plan_load // [] | .[] | "   \(.)"),
		(.history // [] | if length > 0 then "   history (tests/bench/history, target: --limit 50 p50 < 50 ms):" else empty end),
		(.history // [] | .[] | "     \(.)") end),
	"",
	(.clients | if . == null then "Clients: not run" else
		"Clients: 8 boards, quiet vs 200 watchers (10 never read); flashd at nice \(.flashd_nice), the emulated boards at \(.emu_nice)\(if (.emu_cpus // "") != "" then "; the boards on CPU \(.emu_cpus), the station (flashd, udevd, the clients) on CPU \(.station_cpus)" else "" end)   target loaded wall <=1.02 x quiet: \(.met | verdict)",
		"   round  quiet wall s  loaded wall s  ratio   board s (q/l)  CPU s (q/l)  VmHWM MiB (q/l)  ok (q/l)  events/reader  readers behind  stalled overflowed",
		(.rounds[] | "   \(.round | pad(6)) \(.quiet.wall_s | num | pad(13)) \(.loaded.wall_s | num | pad(14)) \(.wall_ratio | num | pad(7)) \("\(.quiet.board_s_median | num)/\(.loaded.board_s_median | num)" | pad(14)) \("\(.quiet.cpu_s | num)/\(.loaded.cpu_s | num)" | pad(12)) \("\(.quiet.vmhwm_mib | num)/\(.loaded.vmhwm_mib | num)" | pad(16)) \("\(.quiet.results_ok | num)/\(.loaded.results_ok | num)" | pad(9)) \(.loaded.watch.events_per_reader | num | pad(14)) \(.loaded.watch.readers_behind | num | pad(15)) \(.loaded.watch.stalled_overflowed | num)"),
		"   median ratio: wall \(.wall_ratio_median | num), one board \(.board_ratio_median | num)",
		(select(.flashd_share_median != null)
		 | "   where a board's time goes (medians, ms, quiet/loaded): udev = ENABLE -> udevd's USEC_INITIALIZED (ROM + fastboot device); flashd = USEC_INITIALIZED -> the board's first SDP report / fastboot command, plus each reply -> the next command (turnaround), an upper bound",
		   "   round  udev (q/l)       flashd (q/l)     of which turnaround (q/l)  board (q/l)        flashd's share of the slowdown",
		   (.rounds[] | select(.quiet.split_ms != null and .loaded.split_ms != null) | .quiet.split_ms as $q | .loaded.split_ms as $l
		    | "   \(.round | pad(6)) \("\($q.udev | num)/\($l.udev | num)" | pad(16)) \("\($q.flashd | num)/\($l.flashd | num)" | pad(16)) \("\($q.turnaround | num)/\($l.turnaround | num)" | pad(26)) \("\($q.board | num)/\($l.board | num)" | pad(18)) \(.flashd_share | num)"),
		   "   median share of flashd in the slowdown: \(.flashd_share_median | num) of a board's time; loaded - quiet per board, median of the rounds (ms): udev \(.split_delta_ms.udev | num), flashd \(.split_delta_ms.flashd | num) (turnaround \(.split_delta_ms.turnaround | num)), board \(.split_delta_ms.board | num)") end),
	"",
	(.web | if . == null then "Web: not run" else
		"Web: 8 boards, flashd-web quiet vs 50 SSE clients + 20 scrapes/s of /metrics   target flash times unchanged, flashd-web RSS bounded",
		"   round  quiet wall s  loaded wall s  ratio   board s (q/l)  flashd CPU s (q/l)  web CPU s (q/l; loaded run)  web VmHWM MiB (q/l)  ok (q/l)",
		(.rounds[] | "   \(.round | pad(6)) \(.quiet.wall_s | num | pad(13)) \(.loaded.wall_s | num | pad(14)) \(.wall_ratio | num | pad(7)) \("\(.quiet.board_s_median | num)/\(.loaded.board_s_median | num)" | pad(14)) \("\(.quiet.cpu_s | num)/\(.loaded.cpu_s | num)" | pad(19)) \("\(.quiet.web_cpu_s | num)/\(.loaded.web_cpu_s | num); \(.loaded.web_cpu_s_all | num) in \(.loaded.web_seconds_all | num) s" | pad(28)) \("\(.quiet.web_vmhwm_mib | num)/\(.loaded.web_vmhwm_mib | num)" | pad(20)) \(.quiet.results_ok | num)/\(.loaded.results_ok | num)"),
		"   round  guest busy (q/l)  webload CPU s  scrapes  failed  skipped  rate/s  scrape ms p50/p99/max  SSE connected at end  events each min/median/max  flashd_web_sse_clients  web RSS max/end MiB",
		(.rounds[] | .loaded as $l | $l.load as $w | select($w != null)
		 | "   \(.round | pad(6)) \("\(.quiet.guest_busy_share | num)/\($l.guest_busy_share | num)" | pad(17)) \($l.load_cpu_s | num | pad(14)) \($w.scrapes | num | pad(8)) \($w.scrapes_failed | num | pad(7)) \($w.scrapes_skipped | num | pad(8)) \($w.scrape_rate | num | pad(7)) \("\($w.scrape_ms_p50 | num)/\($w.scrape_ms_p99 | num)/\($w.scrape_ms_max | num)" | pad(22)) \("\($w.sse_connected_end | num)/\($w.sse | num)" | pad(21)) \("\($w.events_min | num)/\($w.events_median | num)/\($w.events_max | num)" | pad(27)) \($w.sse_clients_gauge_last | num | pad(23)) \($l.web_rss_max_mib | num)/\($l.web_rss_end_mib | num)"),
		"   median ratio: wall \(.wall_ratio_median | num), one board \(.board_ratio_median | num); flashd-web VmHWM peak \(.web_vmhwm_peak_mib.quiet | num) MiB quiet, \(.web_vmhwm_peak_mib.loaded | num) MiB loaded; scrapes \(.scrapes | num), failed \(.scrapes_failed | num), skipped \(.scrapes_skipped | num); SSE streams lost \(.sse_lost | num)" end),
	"",
	(.p6_bus | if . == null then "P6 one bus: not run" else
		"P6 boards sharing a bus (rootfs data \(.rootfs_data_mib | num) MiB; batch NxG-B-E: G buses of N boards, B MB/s a bus, eMMC E MB/s)   target flashd (on: its defaults) <=1.05 x LB, <=0.7 x uuu: \(.met | verdict)",
		"   one board alone (rates and round: wall s, before its first download s, after its last s): \(.solo | to_entries | map("\(.key): \(.value.wall_s), \(.value.pre_s), \(.value.post_s)") | join("; "))",
		"   batch       tool      LB s    LB+fixed s  bus s   wall s   wall/LB  per round        /LB+fixed  vs uuu  bus busy s  idle s  MB/s delivered  CPU s   booted  ok",
		(.batches[] | . as $t | .tools | to_entries[]
		 | "   \($t.batch | pad(11)) \(.key | pad(9)) \(.value.lb_s | num | pad(7)) \(.value.lb_fixed_s | num | pad(11)) \(.value.bus_s | num | pad(7)) \(.value.wall_s | num | pad(8)) \(.value.lb_ratio | num | pad(8)) \(.value.lb_ratio_per_round | map(num) | join(" ") | pad(16)) \(.value.lb_fixed_ratio | num | pad(10)) \(.value.vs_uuu | num | pad(7)) \(.value.busy_s | num | pad(11)) \(.value.idle_s | num | pad(7)) \(.value.delivered_mbps | num | pad(15)) \(.value.cpu_s | num | pad(7)) \("\(.value.booted)/\(.value.boards)" | pad(7)) \(.value.results_ok | num)"),
		"   (LB, LB+fixed and bus s from each tool's own bytes: uuu sends more; LB+fixed: LB's bus term plus what one board alone spends before its first download and after its last, which no schedule can overlap with the first and last downloads of a batch; bus busy: the busiest bus's time with a download under way, the boards' logs; idle: the rest of the batch; MB/s delivered: its bytes / busy time)" end),
	"",
	(.p7_load | if . == null then "P7 latency under load: not run" else
		"P7 plug latency under load, ms (udev add -> first SDP report)   target median <=20 ms in every mode: \(.met | verdict)",
		"   mode     events  median  max     (from SET_CONFIGURATION: median)  other boards ok/failed  reloads  watch waves  flashd CPU s  status round trip ms (n, median, max)  waited for a CPU s, ms a slice  flashd's plug->SDP ms (n, median, max)",
		(.modes[] | "   \(.mode | pad(8)) \("\(.rom_udev_ms.n)/\(.events)" | pad(7)) \(.rom_udev_ms.median | num | pad(7)) \(.rom_udev_ms.max | num | pad(7)) \(.rom_config_ms.median | num | pad(33)) \("\(.churn_results_ok | num)/\(.churn_results_failed | num)" | pad(23)) \(.reloads | num | pad(8)) \(.waves | num | pad(12)) \(.cpu_s | num | pad(13)) \("\(.status_ms.n // "-") \(.status_ms.median | num) \(.status_ms.max | num)" | pad(38)) \("\(.cpu_wait_s | num) \(.cpu_wait_ms_per_slice | num)" | pad(31)) \(.flashd_plug_to_sdp_ms.n // "-") \(.flashd_plug_to_sdp_ms.median | num) \(.flashd_plug_to_sdp_ms.max | num)"),
		"   (status round trip: `flashctl status` every 0.5 s during the plugs, the client's own start included; waited for a CPU: flashd's loop thread runnable but not running during the plugs, /proc/PID/schedstat, in all and per time slice; flashd's plug->SDP: the record's plug_to_sdp_ms, flashd's own udev event -> its first SDP step)",
		"   the plug's latency in parts (medians, ms): udevadm monitor's receipt after USEC_INITIALIZED (an upper bound for udevd's announcement; the monitor runs at nice 0); flashd's debug log: its udev event -> the session's start (loop passes), the open/usbhid detach/claim, -> the first SDP step",
		(.modes[] | "   \(.mode | pad(8)) monitor +\(.udev_monitor_ms | num | pad(7)) flashd: start \(.flashd_split_ms.start | num | pad(7)) open \(.flashd_split_ms.open | num | pad(7)) first step \(.flashd_split_ms.first_step | num) (n \(.flashd_split_ms.n // 0))") end),
	"",
	(.scale | if . == null then "Scale: not run" else
		"Scale: \(.ports) ports flashing at once, \(.boards) boards (\(.ok) ok)",
		"   flashd CPU per board \(.cpu_ms_per_board) ms; RSS peak \(.rss_kib_peak) KiB, \(.rss_kib_per_port) KiB per port over idle",
		"   from board 100 on: RSS \(.rss_kib_from_100) KiB, descriptors \(.fds_from_100), loop events \(.loop_events_from_100); idle (RSS, fds, events) at start \(.idle_start), at end \(.idle_end)" end),
	"",
	(.verify | if . == null then "Verify: not run" else
		"Verify: one board, the seed plan without and with read-back of every region (all verified: \(.all_verified))",
		"   round  fastboot ms (off/on)  rootfs step ms (off/on)  read back MB  cost ms  s per GB",
		(.rounds[] | "   \(.round | pad(6)) \("\(.off.fastboot_ms | num)/\(.on.fastboot_ms | num)" | pad(21)) \("\(.off.rootfs_ms | num)/\(.on.rootfs_ms | num)" | pad(24)) \(.checked_mb | num | pad(13)) \(.cost_ms | num | pad(8)) \(.s_per_gb | num)"),
		"   median: \(.cost_ms_median | num) ms, \(.s_per_gb_median | num) s per GB read back (bed: eMMC reads at memory speed)" end),
	"",
	(.p2_boards.seed_split // {} | to_entries[] | select(.value.board != null)
	 | "Seed flow, one board, \(.key) (ms, as the board saw it): plug->SDP \(.value.board.plug_to_first_sdp_ms | num), SDP upload \(.value.board.sdp_upload_ms | num), re-enumeration \(.value.board.reenum_ms | num), fastboot plug->cmd \(.value.board.fastboot_plug_to_first_cmd_ms | num), fastboot steps \(.value.board.fastboot_ms | num), reboot->booted \(.value.board.reboot_to_booted_ms | num), total \(.value.board.total_ms | num)",
	   (.value.flashd_steps[]? | "   \(.ms | tostring | pad(7)) ms  \(.text)\(if .ok == false then "  (failed)" else "" end)")),
	(.p2_spl_flow.spl_split // {} | to_entries[] | select(.value.board != null)
	 | "SPL flow, one board, \(.key) (ms, as the board saw it): plug->SDP \(.value.board.plug_to_first_sdp_ms | num), SPL upload \(.value.board.spl_upload_ms | num), ROM jump->SPL plug \(.value.board.rom_jump_to_spl_plug_ms | num), SPL plug->cmd \(.value.board.spl_plug_to_first_cmd_ms | num), U-Boot upload \(.value.board.uboot_upload_ms | num), SPL jump->fastboot plug \(.value.board.spl_jump_to_fastboot_plug_ms | num), fastboot plug->cmd \(.value.board.fastboot_plug_to_first_cmd_ms | num), fastboot steps \(.value.board.fastboot_ms | num), reboot->booted \(.value.board.reboot_to_booted_ms | num), total \(.value.board.total_ms | num)",
	   (.value.flashd_steps[]? | "   \(.ms | tostring | pad(7)) ms  \(.text)\(if .ok == false then "  (failed)" else "" end)")),
	"";
