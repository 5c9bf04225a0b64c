//! Dangerous shell commands: recursive deletes of system paths, raw disk writes, pipe-to-shell,
//! reverse shells, permission abuse, credential-file access, fork bombs.

use crate::pattern::PatternSpec;
use crate::Severity;

/// Rules of this module, confirmed on 64 bytes before and 256 after their keyword.
macro_rules! rule {
    ($($rule:tt)*) => {
        crate::pattern::windowed_rule!(64, 256; $($rule)*)
    };
}

/// Top-level system directories a recursive delete must never target.
macro_rules! sys_dirs {
    () => {
        r"(?:/|/\*|~|~/|~/\*|\$HOME/?|\$\{HOME\}/?|/(?:etc|usr|bin|sbin|lib|lib32|lib64|boot|var|home|root|opt|srv|sys|proc|dev|mnt|media|snap|System|Library|Users|Applications)/?\*?)"
    };
}

/// Shell rules.
pub static RULES: &[PatternSpec] = &[
    rule!(
        "rm-rf-system-path",
        &["rm -"],
        concat!(
            r"(?-u:\b)rm\s+(?:-[A-Za-z]+\s+|--[a-z\-]+\s+)*(?:-[A-Za-z]*[rR][A-Za-z]*|--recursive)\s+(?:-[A-Za-z]+\s+|--[a-z\-]+\s+)*",
            sys_dirs!(),
            r#"(?:["']?)(?:\s|$|;|&|\||\))"#
        ),
        0.95,
        Severity::Critical,
        "recursive delete of the root, home or a top-level system directory"
    ),
    rule!(
        "rm-no-preserve-root",
        &["--no-preserve-root"],
        r"--no-preserve-root",
        0.95,
        Severity::Critical,
        "disables rm's protection against deleting /"
    ),
    rule!(
        "disk-overwrite",
        &[
            "of=/dev/",
            "mkfs",
            "wipefs",
            "shred",
            "> /dev/sd",
            ">/dev/sd",
            "> /dev/nvme",
            "fdisk",
            "parted"
        ],
        r"(?-u:\b)dd\s[^\n;|&]*of=/dev/(?:sd[a-z]|hd[a-z]|nvme\d|xvd[a-z]|vd[a-z]|mmcblk\d|disk\d|md\d|dm-\d|mapper/)|(?-u:\b)mkfs(?:\.[a-z0-9]+)?\s+(?:-[A-Za-z]+\s+\S+\s+)*/dev/|(?-u:\b)wipefs\s+(?:-[A-Za-z]+\s+)*/dev/|(?-u:\b)shred\s[^\n;|&]*/dev/(?:sd|hd|nvme|xvd|vd|mmcblk)|>\s*/dev/(?:sd[a-z]|nvme\d|hd[a-z]|mmcblk\d)|(?-u:\b)(?:fdisk|parted|sfdisk)\s+(?:-[A-Za-z]+\s+)*/dev/(?:sd|nvme|hd|xvd|vd)[^\n]*(?:mklabel|rm\s+\d|--delete|-w\s+always)",
        0.95,
        Severity::Critical,
        "writes to or reformats a raw disk device"
    ),
    rule!(
        "pipe-to-shell",
        &["curl", "wget", "iex", "invoke-expression"],
        r"(?i)(?-u:\b)(?:curl|wget|fetch|iwr|irm|invoke-webrequest|invoke-restmethod)(?-u:\b)[^\n|;]{0,300}\|\s*(?:sudo\s+(?:-[A-Za-z]+\s+)*)?(?:ba|z|k|da|fi)?sh(?-u:\b)|(?i)(?-u:\b)(?:curl|wget)(?-u:\b)[^\n|;]{0,300}\|\s*(?:sudo\s+)?(?:python[0-9.]*|perl|ruby|node|php)(?:\s+-)?(?:\s|$)|(?i)(?:ba|z)?sh\s+(?:-c\s+)?[\x22']?(?:<\(|\$\()\s*(?:curl|wget)|(?i)(?:iex|invoke-expression)[^\n]{0,40}(?:iwr|irm|invoke-webrequest|invoke-restmethod|downloadstring|net\.webclient)|(?i)(?:iwr|irm|invoke-webrequest|invoke-restmethod)[^\n|]{0,300}\|\s*iex",
        0.9,
        Severity::Critical,
        "downloads a script and runs it without review (curl | sh)"
    ),
    rule!(
        "decode-to-shell",
        &["base64", "xxd"],
        r"(?-u:\b)(?:base64\s+(?:-d|--decode|-D)|xxd\s+-r(?:\s+-p)?)[^\n|;]{0,200}\|\s*(?:sudo\s+)?(?:ba|z|k|da)?sh(?-u:\b)",
        0.9,
        Severity::Critical,
        "decodes an obfuscated payload and pipes it into a shell"
    ),
    rule!(
        "reverse-shell",
        &[
            "/dev/tcp/",
            "/dev/udp/",
            "sh -i",
            "nc -",
            " nc ",
            "\nnc ",
            ";nc ",
            "|nc ",
            "`nc ",
            "(nc ",
            "ncat",
            "netcat",
            "socat",
            "mkfifo",
            "socket.socket",
            "pty.spawn",
            "telnet"
        ],
        r"/dev/(?:tcp|udp)/[^\s/]+/(?:\d+|\$\{?\w+\}?)|(?-u:\b)(?:ba|k|z|da)?sh\s+-i\s*(?:[0-9]?[<>]&?|&>)|(?-u:\b)(?:nc|ncat|netcat)(?:\.traditional|\.openbsd)?\s+(?:-[A-Za-z]*\s+)*(?:[^\n;|&]*\s)?-[A-Za-z]*[ec]\s+\S*(?:sh|bash|cmd|powershell)(?-u:\b)|(?-u:\b)socat\s[^\n]*(?:exec|system):[^\n]*(?:sh|bash)|mkfifo\s[^\n]*(?:nc|ncat|netcat|telnet)\s|(?i)socket\.socket\([\s\S]{0,300}?(?:connect\(|dup2|pty\.spawn|subprocess)|(?-u:\b)telnet\s+\S+\s+\d+\s*\|\s*(?:/bin/)?(?:ba)?sh",
        0.95,
        Severity::Critical,
        "opens a reverse shell to a remote host"
    ),
    rule!(
        "reverse-shell",
        &[
            "fsockopen",
            "tcpsocket",
            "pf_inet",
            "net.dial",
            "require(\"net\")",
            "require('net')",
            "s_client",
            "socket -qvp",
            "using sockets"
        ],
        r#"(?:fsockopen|TCPSocket\.new|PF_INET|net\.Dial|require\(["']net["']\)|s_client\s[^\n]*-connect|socket\s+-qvp|using\s+Sockets)[\s\S]{0,400}?(?:/bin/(?:ba|z|k|da)?sh|(?-u:\b)sh\s+-i|(?-u:\b)exec(?-u:\b)|spawn|popen|pty|dup2|ProcessBuilder|readline\(sock)"#,
        0.9,
        Severity::Critical,
        "an interpreter one-liner that connects out and hands the connection a shell"
    ),
    rule!(
        "world-writable-system-path",
        &["chmod"],
        concat!(
            r"(?-u:\b)chmod\s+(?:-[A-Za-z]+\s+)*(?:0?777|a\+rwx|ugo\+rwx|o\+w|a\+w)\s+(?:-[A-Za-z]+\s+)*",
            sys_dirs!(),
            r"(?:\s|$|;|&|\|)"
        ),
        0.9,
        Severity::Critical,
        "makes the root or a system directory writable by everyone"
    ),
    rule!(
        "setuid-shell",
        &["chmod"],
        r"(?-u:\b)chmod\s+(?:-[A-Za-z]+\s+)*(?:u\+s|\+s|[4267][0-7]{3})\s+\S*(?:/bin/|/usr/bin/)?(?:ba|z|da|k)?sh(?-u:\b)|(?-u:\b)chmod\s+(?:u\+s|\+s|4[0-7]{3})\s+\S*(?:python|perl|find|vim|env)(?-u:\b)",
        0.9,
        Severity::Critical,
        "sets the setuid bit on a shell or interpreter (privilege escalation)"
    ),
    rule!(
        "chown-system-path",
        &["chown"],
        concat!(
            r"(?-u:\b)chown\s+(?:-[A-Za-z]+\s+)*-[A-Za-z]*R[A-Za-z]*\s+(?:-[A-Za-z]+\s+)*\S+\s+",
            sys_dirs!(),
            r"(?:\s|$|;|&|\|)"
        ),
        0.85,
        Severity::High,
        "recursively changes the owner of the root or a system directory"
    ),
    rule!(
        "credential-file-access",
        &[
            ".ssh/",
            "/etc/shadow",
            "/etc/gshadow",
            "/etc/sudoers",
            ".aws/credentials",
            ".kube/config",
            ".docker/config.json",
            ".netrc",
            ".git-credentials",
            "/proc/self/environ",
            ".pgpass",
            ".gnupg",
            "id_rsa",
            "id_ed25519",
            ".vault-token",
            "credentials.json"
        ],
        r"(?:~|\$HOME|\$\{HOME\}|/home/[^/\s]+|/root|/Users/[^/\s]+)?/?\.ssh/(?:id_[a-z0-9_]+(?-u:\b)|authorized_keys|known_hosts)|/etc/(?:shadow|gshadow|sudoers)(?-u:\b)|\.aws/credentials|\.kube/config|\.docker/config\.json|(?:~|\$HOME)/\.netrc|\.git-credentials|/proc/(?:self|\d+)/environ|\.pgpass|\.gnupg/|\.vault-token|(?-u:\b)id_(?:rsa|dsa|ecdsa|ed25519)(?-u:\b)(?:\.pub)?",
        0.7,
        Severity::High,
        "touches a credential or key file"
    ),
    rule!(
        "fork-bomb",
        &[":(", "fork"],
        r":\s*\(\s*\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:|(?i)(?:os\.)?fork\(\)\s*(?:while|;|\{)[^\n]{0,40}fork\(\)|while\s*(?:true|1|\(1\))\s*;?\s*do\s+[^\n]*&\s*done",
        0.95,
        Severity::Critical,
        "a fork bomb that exhausts the process table"
    ),
    rule!(
        "disable-security",
        &[
            "setenforce",
            "iptables",
            "ufw disable",
            "auditctl",
            "history -c",
            "systemctl stop",
            "systemctl disable",
            "systemctl mask",
            "unset histfile",
            "spctl"
        ],
        r"(?-u:\b)setenforce\s+0(?-u:\b)|(?-u:\b)iptables\s+(?:-t\s+\w+\s+)?-F(?-u:\b)|(?-u:\b)ufw\s+disable(?-u:\b)|(?-u:\b)auditctl\s+-D(?-u:\b)|(?-u:\b)history\s+-c(?-u:\b)|(?i)unset\s+HISTFILE|(?-u:\b)systemctl\s+(?:stop|disable|mask)\s+(?:firewalld|apparmor|auditd|falco|osqueryd|crowdstrike|falcon-sensor|selinux)|(?-u:\b)spctl\s+--master-disable",
        0.8,
        Severity::High,
        "disables a security control or erases audit history"
    ),
    rule!(
        "system-shutdown",
        &[
            "shutdown",
            "reboot",
            "halt",
            "poweroff",
            "init 0",
            "init 6",
            "kill -9 -1",
            "killall5",
            "sysrq"
        ],
        r"(?-u:\b)(?:shutdown\s+(?:-[hrP]\s+)?(?:now|0|\+\d+)|reboot(?:\s+-f)?\s*(?:$|;|&)|halt\s*(?:-f\s*)?(?:$|;|&)|poweroff(?:\s|$|;)|init\s+[06](?:\s|$|;)|kill\s+-9\s+-1|killall5)|echo\s+[bco]\s*>\s*/proc/sysrq-trigger",
        0.8,
        Severity::High,
        "shuts down, reboots or kills every process on the host"
    ),
    rule!(
        "overwrite-system-file",
        &[
            "/etc/passwd",
            "/etc/hosts",
            "/etc/crontab",
            "/boot/",
            "/etc/ld.so.preload",
            "authorized_keys",
            "/etc/profile",
            "bashrc"
        ],
        r">>?\s*(?:/etc/(?:passwd|shadow|sudoers|hosts|crontab|ld\.so\.preload|profile|environment)|/boot/\S+|(?:~|\$HOME|/root)/\.(?:bashrc|profile|zshrc|ssh/authorized_keys))(?:\s|$|;)|(?-u:\b)tee\s+(?:-a\s+)?(?:/etc/(?:passwd|shadow|sudoers|crontab|ld\.so\.preload)|(?:~|\$HOME|/root)/\.ssh/authorized_keys)",
        0.85,
        Severity::Critical,
        "writes into a system file or a login/persistence file"
    ),
    rule!(
        "find-delete-root",
        &["find /", "find ~", "find $"],
        concat!(
            r"(?-u:\b)find\s+",
            sys_dirs!(),
            r"\s[^\n;|]*(?:-delete|-exec\s+rm\s)"
        ),
        0.9,
        Severity::Critical,
        "deletes files across the root or a system directory with find"
    ),
    rule!(
        "git-destructive",
        &["git "],
        r"(?-u:\b)git\s+push\s+[^\n;|&]*(?:--force(?:-with-lease)?|\s-f)(?:\s|$)[^\n;|&]*(?:main|master|release|prod)|(?-u:\b)git\s+push\s+[^\n;|&]*(?:main|master|release|prod)[^\n;|&]*(?:--force|\s-f)(?:\s|$)",
        0.6,
        Severity::Medium,
        "force-pushes over a protected branch"
    ),
    rule!(
        "cloud-destructive",
        &[
            "kubectl delete",
            "terraform destroy",
            "aws s3 r",
            "terminate-instances",
            "delete-db-",
            "delete-table",
            "gcloud",
            "az group delete"
        ],
        r"(?-u:\b)kubectl\s+delete\s+(?:ns|namespace|namespaces|pv|pvc|nodes?|crd|--all)(?-u:\b)|(?-u:\b)kubectl\s+delete\s[^\n]*--all(?:-namespaces)?(?-u:\b)|(?-u:\b)terraform\s+destroy(?-u:\b)[^\n]*(?:-auto-approve)|(?-u:\b)aws\s+s3\s+rb\s[^\n]*--force|(?-u:\b)aws\s+s3\s+rm\s[^\n]*--recursive|(?-u:\b)aws\s+(?:ec2\s+terminate-instances|rds\s+delete-db-(?:instance|cluster)|dynamodb\s+delete-table)|(?-u:\b)gcloud\s+[^\n]*\sdelete\s[^\n]*--quiet|(?-u:\b)az\s+group\s+delete(?-u:\b)",
        0.8,
        Severity::High,
        "deletes cloud or cluster resources in bulk"
    ),
];
