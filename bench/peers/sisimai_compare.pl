#!/usr/bin/perl
# Sisimai (Debian libsisimai-perl, Sisimai->match) and `bouncestream classify` on the same SMTP replies:
# accuracy against the labels of the shared reply corpus and speed, side by side. Called by
# sisimai_compare.sh (which checks the prerequisites); prints a Markdown section on stdout.
#
# Inputs, read in place: CORPUS/replies/sisimai.tsv (labelled with Sisimai's own reasons, from Sisimai's
# full parse of the bounce mails) and CORPUS/replies/providers.jsonl (labelled with a `kind`). Both tools
# get the same reply string: basic code, enhanced code and text, joined as an MTA logs them. Sisimai->match
# sees nothing else; bouncestream is measured twice: on that string alone (like for like) and with the
# context production gives it (MX host, recipient domain, outcome), built as tests/rules/corpus_*_test.cc
# build it.
#
# Judging (docs/classification_mapping.md is the dictionary): our categories against a Sisimai reason or a
# corpus kind use the tables there. Sisimai's answers on sisimai.tsv are judged twice: exact reason, and
# "via the mapping" (its answer and the label allow a common category of ours), which is how we are
# judged. On providers.jsonl Sisimai's reason is judged via the mapping against the kind's categories.
use strict;
use warnings;
use Getopt::Long;
use JSON::PP;
use File::Temp qw(tempdir);
use Time::HiRes qw(time);
use Sisimai;

my ($bin, $corpus, $source) = ('', '', '');
my ($runs, $quick) = (5, 0);
GetOptions('bin=s' => \$bin, 'corpus=s' => \$corpus, 'source=s' => \$source, 'runs=i' => \$runs,
           'quick' => \$quick) or die "usage: $0 --bin BOUNCESTREAM --corpus DIR --source DIR [--runs N] [--quick]\n";
die "--bin and --corpus are required\n" unless $bin && $corpus;
$runs = 1 if $runs < 1;

# --- the dictionary (docs/classification_mapping.md) --------------------------------------------------
my %REASON = (
  userunknown => [qw(user_unknown bad_address mailbox_disabled mailbox_unavailable)],
  mailboxfull => [qw(mailbox_full)],
  filtered => [qw(user_unknown policy spam_content mailbox_unavailable)],
  expired => [qw(expired network_error)],
  rejected => [qw(sender_config policy domain_blocklisted)],
  blocked => [qw(ip_blocklisted reputation policy)],
  hostunknown => [qw(domain_not_found domain_no_mail)],
  authfailure => [qw(dmarc_failure spf_failure dkim_failure auth_failure)],
  feedback => [qw(complaint)],
  suspend => [qw(mailbox_disabled)],
  policyviolation => [qw(policy spam_content virus)],
  networkerror => [qw(network_error forwarding)],
  requireptr => [qw(sender_config)],
  systemerror => [qw(server_error)],
  spamdetected => [qw(spam_content)],
  notaccept => [qw(domain_no_mail domain_not_found)],
  securityerror => [qw(sender_config auth_failure policy)],
  mailererror => [qw(server_error)],
  norelaying => [qw(relay_denied)],
  vacation => [qw(auto_reply)],
  notcompliantrfc => [qw(policy)],
  toomanyconn => [qw(rate_limited)],
  onhold => undef,  # Sisimai could not decide: any non-suppressing answer
  badreputation => [qw(reputation rate_limited ip_blocklisted)],
  mesgtoobig => [qw(message_too_large)],
  exceedlimit => [qw(message_too_large)],
  hasmoved => [qw(mailbox_unavailable user_unknown mailbox_disabled)],
  contenterror => [qw(policy message_too_large)],
  virusdetected => [qw(virus spam_content)],
  delivered => [qw(delivered)],
  speeding => [qw(rate_limited)],
  syntaxerror => [qw(sender_config)],
  systemfull => [qw(server_error)],
  failedstarttls => [qw(tls_failure)],
);
my %KIND = (  # kind => [sender_side, categories]; an empty list: anything classified that does not suppress
  rate_limit => [1, [qw(rate_limited)]],
  dmarc => [1, [qw(dmarc_failure)]],
  spf => [1, [qw(spf_failure)]],
  dkim => [1, [qw(dkim_failure)]],
  auth_other => [1, [qw(auth_failure)]],
  blocklist_ip => [1, [qw(ip_blocklisted)]],
  blocklist_domain => [1, [qw(domain_blocklisted)]],
  reputation => [1, [qw(reputation ip_blocklisted)]],
  spam_content => [1, [qw(spam_content virus)]],
  tls => [1, [qw(tls_failure)]],
  sender_config => [1, [qw(sender_config)]],
  greylist => [1, [qw(greylisted)]],
  message_size => [1, [qw(message_too_large)]],
  forwarding => [1, [qw(forwarding)]],
  user_unknown => [0, [qw(user_unknown bad_address)]],
  mailbox_disabled => [0, [qw(mailbox_disabled user_unknown)]],
  mailbox_full => [0, [qw(mailbox_full)]],
  domain_invalid => [0, [qw(domain_not_found domain_no_mail relay_denied sender_config)]],
  policy => [0, [qw(policy)]],
  other => [0, []],
);
# Sisimai reasons whose every category of ours removes the address or domain (its hard bounces).
my %SUPPRESSING_REASON = map { $_ => 1 } qw(userunknown hostunknown suspend notaccept hasmoved);
my %SUPPRESSING_ACTION = map { $_ => 1 } qw(suppress_address suppress_domain);

sub overlap {
  my ($a, $b) = @_;
  my %in = map { $_ => 1 } @$a;
  return scalar grep { $in{$_} } @$b;
}

# Our answer ({category, action}) against a Sisimai reason / a corpus kind.
sub ours_vs_reason {
  my ($reason, $c) = @_;
  my $allowed = $REASON{$reason};
  return !$SUPPRESSING_ACTION{$c->{action}} unless defined $allowed;
  return scalar grep { $_ eq $c->{category} } @$allowed;
}
sub ours_vs_kind {
  my ($kind, $c) = @_;
  return 0 if $c->{category} eq 'unknown';
  my $allowed = $KIND{$kind}[1];
  return !$SUPPRESSING_ACTION{$c->{action}} unless @$allowed;
  return scalar grep { $_ eq $c->{category} } @$allowed;
}
# Sisimai's answer against a Sisimai label (via the mapping) / a corpus kind.
sub decided { my $r = shift; return $r ne '' && $r ne 'undefined' && $r ne 'onhold' && exists $REASON{$r} }
sub sisimai_vs_reason_mapped {
  my ($label, $got) = @_;
  return $got eq $label if $got eq $label;
  return decided($got) && !$SUPPRESSING_REASON{$got} unless defined $REASON{$label};
  return decided($got) && overlap($REASON{$label}, $REASON{$got});
}
sub sisimai_vs_kind {
  my ($kind, $got) = @_;
  return 0 unless decided($got);
  my $allowed = $KIND{$kind}[1];
  return !$SUPPRESSING_REASON{$got} unless @$allowed;
  return overlap($allowed, $REASON{$got});
}

# --- the corpus --------------------------------------------------------------------------------------
sub slurp { my $p = shift; open my $f, '<:encoding(UTF-8)', $p or die "cannot read $p: $!\n"; local $/; my $s = <$f>; return $s }

sub join_reply {  # as the MTA logs it: "550 5.1.1 text", codes not repeated when the text starts with them
  my ($code, $enh, $text) = @_;
  my @parts;
  push @parts, $code if $code ne '' && index($text, $code) != 0;
  push @parts, $enh if $enh ne '' && index(substr($text, 0, 16), $enh) < 0;
  push @parts, $text;
  return join ' ', @parts;
}

# MX host and recipient domain per corpus provider (prose, matched by prefix), read from the providers
# corpus test so the two cannot drift apart: lines {"prefix", "mx.host", "domain"}.
my @HOSTS;
if ($source && open my $t, '<', "$source/tests/rules/corpus_providers_test.cc") {
  while (<$t>) { push @HOSTS, [$1, $2, $3] if /^\s*\{"([^"]+)",\s*"([^"]+)",\s*"([^"]+)"\},/ }
}

my @rows;  # {set, label, reply, ctx (classify input with context)}
{
  my @lines = split /\n/, slurp("$corpus/replies/sisimai.tsv");
  shift @lines;  # header
  my $host_re = qr/\bhost:? ([a-z0-9][a-z0-9.-]*\.[a-z]{2,})\s?[\[(]/i;
  for (@lines) {
    next if /^\s*$/;
    my @f = split /\t/, $_, -1;
    next unless @f == 8;
    my ($id, $module, $domain, $code, $enh, $text, $reason) = @f;
    my $reply = join_reply($code, $enh, $text);
    my %ctx = (reply => $reply, recipient => $domain);
    $ctx{mx} = $1 if $text =~ $host_re;
    $ctx{outcome} = $module eq 'ARF' ? 'complaint'
                  : $code =~ /^2/ ? 'delivered' : $code =~ /^4/ ? 'deferred' : 'bounced';
    push @rows, {set => 'sisimai', label => $reason, reply => $reply, ctx => \%ctx};
  }
}
{
  my $json = JSON::PP->new;
  for (split /\n/, slurp("$corpus/replies/providers.jsonl")) {
    next if /^\s*$/;
    my $r = $json->decode($_);
    my $reply = join ' ', grep { $_ ne '' } ($r->{reply_code}, $r->{enhanced_status}, $r->{text});
    my %ctx = (reply => $reply, outcome => $r->{reply_code} =~ /^4/ ? 'deferred' : 'bounced');
    for my $h (@HOSTS) {
      if (index($r->{provider}, $h->[0]) == 0) { @ctx{qw(mx recipient)} = ($h->[1], $h->[2]); last }
    }
    push @rows, {set => 'providers', label => $r->{kind}, reply => $reply, ctx => \%ctx, sender_side => $KIND{$r->{kind}}[0]};
  }
}
my $n = @rows;
die "corpus looks truncated ($n replies)\n" if $n < 1000;

# --- answers -----------------------------------------------------------------------------------------
my $tmp = tempdir('bs-sisimai-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $enc = JSON::PP->new->canonical->utf8;
sub write_input {
  my ($path, $copies, $which) = @_;
  open my $f, '>', $path or die "cannot write $path: $!\n";
  my $block = '';
  $block .= $enc->encode($which eq 'ctx' ? $_->{ctx} : {reply => $_->{reply}}) . "\n" for @rows;
  print $f $block for 1 .. $copies;
  close $f or die;
}
sub classify {  # runs classify; returns the CPU seconds (user + sys) it took, from the children's times
  my ($path, $out) = @_;
  my (undef, undef, $cu0, $cs0) = times;
  system("'$bin' classify '$path' > '$out' 2> '$tmp/classify.err'") == 0
    or die "bouncestream classify failed: " . slurp("$tmp/classify.err");
  my (undef, undef, $cu1, $cs1) = times;
  return ($cu1 - $cu0) + ($cs1 - $cs0);
}
sub read_answers {
  my $path = shift;
  my @a = map { my $o = decode_json($_); {category => $o->{category}, action => $o->{action}} }
          grep { /\S/ } split /\n/, slurp($path);
  die "classify answered " . scalar(@a) . " lines for $n replies\n" unless @a == $n;
  return \@a;
}
write_input("$tmp/text.jsonl", 1, 'text');
write_input("$tmp/ctx.jsonl", 1, 'ctx');
classify("$tmp/text.jsonl", "$tmp/text.out");
classify("$tmp/ctx.jsonl", "$tmp/ctx.out");
my $ours_text = read_answers("$tmp/text.out");
my $ours_ctx = read_answers("$tmp/ctx.out");
my @sis = map { Sisimai->match($_->{reply}) // '' } @rows;

# --- accuracy ----------------------------------------------------------------------------------------
my %acc;  # set => column => hits
my %total;
my %unsafe;  # sender-side replies given a suppressing answer (providers.jsonl): the costliest mistake
for my $i (0 .. $#rows) {
  my $r = $rows[$i];
  my $s = $r->{set};
  $total{$s}++;
  if ($s eq 'sisimai') {
    $acc{$s}{sis_exact}++ if $sis[$i] eq $r->{label};
    $acc{$s}{sis_map}++ if sisimai_vs_reason_mapped($r->{label}, $sis[$i]);
    $acc{$s}{ours_text}++ if ours_vs_reason($r->{label}, $ours_text->[$i]);
    $acc{$s}{ours_ctx}++ if ours_vs_reason($r->{label}, $ours_ctx->[$i]);
  } else {
    $acc{$s}{sis_map}++ if sisimai_vs_kind($r->{label}, $sis[$i]);
    $acc{$s}{ours_text}++ if ours_vs_kind($r->{label}, $ours_text->[$i]);
    $acc{$s}{ours_ctx}++ if ours_vs_kind($r->{label}, $ours_ctx->[$i]);
    if ($r->{sender_side}) {
      $total{sender_side}++;
      $unsafe{sis}++ if $SUPPRESSING_REASON{$sis[$i]};
      $unsafe{ours_text}++ if $SUPPRESSING_ACTION{$ours_text->[$i]{action}};
      $unsafe{ours_ctx}++ if $SUPPRESSING_ACTION{$ours_ctx->[$i]{action}};
    }
  }
  $acc{$s}{sis_undecided}++ unless decided($sis[$i]);
}

# --- speed ---------------------------------------------------------------------------------------------
# Replies per CPU-second on one core each (CPU time, not wall time: the machine is shared, and CPU time
# is what each tool costs). Sisimai: the match loop in this process (modules already loaded by the
# accuracy pass), `times` around it. bouncestream: `classify` on K copies of the context input minus
# `classify` on one copy, so its start-up (rule compilation) is excluded and both are steady state.
# Clock ticks are 10 ms: each measured span is kept well above that.
my $copies = $quick ? 40 : 200;
my $sis_passes = $quick ? 1 : 3;
write_input("$tmp/ctxK.jsonl", $copies, 'ctx');
my (@sis_rate, @ours_rate, @ours_startup);
for (1 .. $runs) {
  my ($u0, $s0) = times;
  for (1 .. $sis_passes) { Sisimai->match($_->{reply}) for @rows }
  my ($u1, $s1) = times;
  push @sis_rate, $sis_passes * $n / max(0.01, ($u1 - $u0) + ($s1 - $s0));
  my $t1 = classify("$tmp/ctx.jsonl", '/dev/null');
  my $tk = classify("$tmp/ctxK.jsonl", '/dev/null');
  push @ours_startup, $t1;
  push @ours_rate, ($copies - 1) * $n / max(0.01, $tk - $t1);
}
sub max { return $_[0] > $_[1] ? $_[0] : $_[1] }
sub stats {  # median (min–max)
  my @v = sort { $a <=> $b } @_;
  my $m = @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
  return ($m, $v[0], $v[-1]);
}
sub fmt_rate { my ($m, $lo, $hi) = stats(@_); return sprintf('%s (%s–%s)', map { commas(int($_ + 0.5)) } $m, $lo, $hi) }
sub commas { my $x = reverse shift; $x =~ s/(\d{3})(?=\d)/$1,/g; return scalar reverse $x }
sub pct { my ($h, $t) = @_; return sprintf('%d/%d = %.1f %%', $h // 0, $t, 100 * ($h // 0) / $t) }

my $ver = Sisimai->version;
my ($sm) = stats(@sis_rate);
my ($om) = stats(@ours_rate);
print "### Classification: Sisimai $ver (`Sisimai->match`) vs `bouncestream classify`\n\n";
printf "Same %d replies (sisimai.tsv %d, providers.jsonl %d), read in place from the shared corpus; labels judged\n",
  $n, $total{sisimai}, $total{providers};
print "with docs/classification_mapping.md. \"text\": the reply string only (all Sisimai->match sees); \"context\":\n";
print "plus MX host, recipient domain and outcome, as the log parsers give them in production.\n\n";
print "| corpus | Sisimai->match | bouncestream (text) | bouncestream (context) |\n|---|---|---|---|\n";
printf "| sisimai.tsv, Sisimai's own reason (exact) | %s | — | — |\n", pct($acc{sisimai}{sis_exact}, $total{sisimai});
printf "| sisimai.tsv, via the mapping | %s | %s | %s |\n", pct($acc{sisimai}{sis_map}, $total{sisimai}),
  pct($acc{sisimai}{ours_text}, $total{sisimai}), pct($acc{sisimai}{ours_ctx}, $total{sisimai});
printf "| providers.jsonl kinds, via the mapping | %s | %s | %s |\n", pct($acc{providers}{sis_map}, $total{providers}),
  pct($acc{providers}{ours_text}, $total{providers}), pct($acc{providers}{ours_ctx}, $total{providers});
printf "| replies Sisimai leaves undecided (undefined/onhold) | %d | — | — |\n",
  ($acc{sisimai}{sis_undecided} // 0) + ($acc{providers}{sis_undecided} // 0);
printf "| sender-side providers.jsonl replies given a suppressing answer (of %d) | %d | %d | %d |\n",
  $total{sender_side}, $unsafe{sis} // 0, $unsafe{ours_text} // 0, $unsafe{ours_ctx} // 0;
printf "| speed, replies per CPU-second, median (min–max) of %d runs | %s | — | %s |\n", $runs, fmt_rate(@sis_rate), fmt_rate(@ours_rate);
printf "\nSpeed ratio bouncestream / Sisimai: **%.0f×** (CPU time, one core each; bouncestream steady state over\n",
  $om / $sm;
printf "%s replies, its start-up with rule compilation, %.0f ms CPU median, excluded; Sisimai in-process).\n",
  commas($copies * $n), 1000 * (stats(@ours_startup))[0];
print "Sisimai's labels in sisimai.tsv come from its full parse of each bounce mail (reporting-MTA and remote-host\n";
print "modules), so Sisimai->match on the reply alone scores below Sisimai itself on its own labels.\n";
printf "\nFIGURE sisimai_accuracy_pct=%.1f ours_accuracy_pct=%.1f sisimai_rps=%.0f ours_rps=%.0f\n",
  100 * (($acc{sisimai}{sis_map} // 0) + ($acc{providers}{sis_map} // 0)) / $n,
  100 * (($acc{sisimai}{ours_ctx} // 0) + ($acc{providers}{ours_ctx} // 0)) / $n, $sm, $om;
