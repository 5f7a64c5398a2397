import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, chmod, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { locateTemporalCli } from '../src/temporal-cli/binary';

const VERSION = 'v1.5.1';
const PACKAGE = `github.com/temporalio/cli/cmd/temporal@${VERSION}`;
const MAIN = join(__dirname, '..', 'src', 'temporal-cli', 'main.js');
const ENV_KEYS = ['TEMPORAL_CLI_PATH', 'PATH', 'XDG_CACHE_HOME', 'HOME'] as const;

// Large enough that a reader racing a writer would see a short file, and split so the fake writes it in two steps.
const BINARY_HEAD = `#!/bin/sh\n${'# padding so that a partial write is visible\n'.repeat(20_000)}`;
const BINARY_TAIL = `echo 'temporal version ${VERSION.slice(1)} (fake)'\n`;

function cachedBinary(cacheBase: string): string {
  return join(cacheBase, 'temporal-oauth', 'temporal-cli', VERSION, 'temporal');
}

async function executable(path: string, content = `#!/bin/sh\necho ${path}\n`): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
  await chmod(path, 0o755);
  return path;
}

async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

interface FakeGoOptions {
  /** Invocations to wait for before building, so that concurrent builds are known to overlap. */
  barrier?: number;
  /** Seconds to spend "compiling" after printing progress. */
  holdSeconds?: number;
  failWithCode?: number;
}

interface FakeGo {
  dir: string;
  /** One entry per run: its arguments, GOBIN and working directory. */
  invocations: () => Promise<{ args: string; gobin: string; cwd: string }[]>;
}

/** A `go` that accepts only `go install [-v] <the CLI package>` and installs a fixed shell script where go would. */
async function fakeGo(root: string, options: FakeGoOptions = {}): Promise<FakeGo> {
  const dir = join(root, 'fake-go-bin');
  const log = join(root, 'go-invocations');
  const head = join(root, 'binary-head');
  const tail = join(root, 'binary-tail');
  await writeFile(log, '');
  await writeFile(head, BINARY_HEAD);
  await writeFile(tail, BINARY_TAIL);
  const script = `#!/bin/sh
PATH=/usr/bin:/bin
printf '%s\\t%s\\t%s\\n' "$*" "$GOBIN" "$PWD" >> '${log}'
case "$*" in
  "install ${PACKAGE}"|"install -v ${PACKAGE}") ;;
  *) echo "go: unexpected arguments: $*" >&2; exit 1 ;;
esac
i=0
while [ "$(wc -l < '${log}')" -lt ${options.barrier ?? 1} ] && [ $i -lt 300 ]; do sleep 0.01; i=$((i+1)); done
echo 'go: downloading github.com/temporalio/cli v1.5.1' >&2
echo 'go: downloading go.temporal.io/server v1.27.1' >&2
echo 'go.temporal.io/api/common/v1' >&2
echo 'go.temporal.io/server/common' >&2
echo 'github.com/temporalio/cli/temporalcli' >&2
sleep ${options.holdSeconds ?? 0}
${options.failWithCode === undefined ? '' : `echo 'temporalcli/commands.go:1: something broke' >&2; exit ${options.failWithCode}`}
bin="\${GOBIN:-$HOME/go/bin}"
mkdir -p "$bin"
cat '${head}' > "$bin/temporal"
chmod 755 "$bin/temporal"
sleep 0.1
cat '${tail}' >> "$bin/temporal"
`;
  await executable(join(dir, 'go'), script);
  return {
    dir,
    invocations: async () =>
      (await readFile(log, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [args = '', gobin = '', cwd = ''] = line.split('\t');
          return { args, gobin, cwd };
        }),
  };
}

/** The cache must hold the complete binary, runnable, and nothing else: no partial file, no build folder. */
async function assertIntactCache(cacheBase: string): Promise<void> {
  const binary = cachedBinary(cacheBase);
  assert.deepEqual(await readdir(dirname(binary)), ['temporal']);
  assert.equal(await readFile(binary, 'utf8'), BINARY_HEAD + BINARY_TAIL);
  assert.ok(await isExecutable(binary), 'the cached binary is not executable');
  const { stdout } = await promisify(execFile)(binary);
  assert.equal(stdout, `temporal version ${VERSION.slice(1)} (fake)\n`);
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('locateTemporalCli finds or builds the temporal binary', () => {
  let saved: Partial<Record<(typeof ENV_KEYS)[number], string>>;
  let scratch: string;
  let home: string;
  let cache: string;
  /** A PATH holding neither `temporal` nor `go`, so the machine's own tools cannot leak into a test. */
  let emptyBin: string;

  beforeEach(async () => {
    saved = {};
    for (const key of ENV_KEYS) saved[key] = process.env[key];
    scratch = await mkdtemp(join(tmpdir(), 'temporal-cli-test-'));
    home = join(scratch, 'home');
    cache = join(scratch, 'cache');
    emptyBin = join(scratch, 'empty-bin');
    await mkdir(home);
    await mkdir(emptyBin);
    delete process.env.TEMPORAL_CLI_PATH;
    process.env.PATH = emptyBin;
    process.env.HOME = home;
    process.env.XDG_CACHE_HOME = cache;
  });

  afterEach(async () => {
    for (const key of ENV_KEYS) {
      const value = saved[key];
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await rm(scratch, { recursive: true, force: true });
  });

  describe('lookup order', () => {
    it('TEMPORAL_CLI_PATH wins over a temporal on PATH and over the cache, and go is never run', async () => {
      const explicit = await executable(join(scratch, 'explicit', 'my-temporal'));
      const onPath = await executable(join(scratch, 'path-bin', 'temporal'));
      await executable(cachedBinary(cache));
      const go = await fakeGo(scratch);
      process.env.TEMPORAL_CLI_PATH = explicit;
      process.env.PATH = [dirname(onPath), go.dir].join(delimiter);

      assert.equal(await locateTemporalCli({ log: () => {} }), explicit);
      assert.deepEqual(await go.invocations(), []);
    });

    it('a relative TEMPORAL_CLI_PATH comes back as an absolute path', async () => {
      const explicit = await executable(join(scratch, 'explicit', 'temporal'));
      process.env.TEMPORAL_CLI_PATH = relative(process.cwd(), explicit);

      assert.equal(await locateTemporalCli({ log: () => {} }), explicit);
    });

    it('a TEMPORAL_CLI_PATH that is not executable is an error naming the variable, not a fall-back to PATH', async () => {
      const notExecutable = join(scratch, 'explicit', 'temporal');
      await mkdir(dirname(notExecutable));
      await writeFile(notExecutable, '#!/bin/sh\n');
      await chmod(notExecutable, 0o644);
      const onPath = await executable(join(scratch, 'path-bin', 'temporal'));
      process.env.TEMPORAL_CLI_PATH = notExecutable;
      process.env.PATH = dirname(onPath);

      await assert.rejects(locateTemporalCli({ log: () => {} }), (error: Error) => {
        assert.match(error.message, /TEMPORAL_CLI_PATH/);
        assert.ok(error.message.includes(notExecutable), error.message);
        return true;
      });
    });

    it('without TEMPORAL_CLI_PATH, a temporal on PATH wins over the cache, and go is never run', async () => {
      const onPath = await executable(join(scratch, 'path-bin', 'temporal'));
      await executable(cachedBinary(cache));
      const go = await fakeGo(scratch);
      process.env.PATH = [go.dir, dirname(onPath)].join(delimiter);

      assert.equal(await locateTemporalCli({ log: () => {} }), onPath);
      assert.deepEqual(await go.invocations(), []);
    });

    it('on PATH, the first executable temporal file in an absolute folder wins', async () => {
      const nonExecutable = join(scratch, 'non-executable', 'temporal');
      await mkdir(dirname(nonExecutable));
      await writeFile(nonExecutable, '#!/bin/sh\n');
      await chmod(nonExecutable, 0o644);
      const folderNamedTemporal = join(scratch, 'folder', 'temporal');
      await mkdir(folderNamedTemporal, { recursive: true });
      // A relative entry would make the answer depend on the working directory, so it must be skipped.
      const relativeBin = relative(process.cwd(), dirname(await executable(join(scratch, 'relative-bin', 'temporal'))));
      const first = await executable(join(scratch, 'first', 'temporal'));
      const second = await executable(join(scratch, 'second', 'temporal'));
      process.env.PATH = ['', dirname(nonExecutable), dirname(folderNamedTemporal), relativeBin, dirname(first), dirname(second)].join(
        delimiter,
      );

      assert.equal(await locateTemporalCli({ log: () => {} }), first);
    });
  });

  describe('the version-keyed cache', () => {
    it('with nothing else available, the binary cached for v1.5.1 under $XDG_CACHE_HOME is used, not one for another version', async () => {
      await executable(join(cache, 'temporal-oauth', 'temporal-cli', 'v1.4.0', 'temporal'));
      await executable(cachedBinary(join(home, '.cache')));
      const cached = await executable(cachedBinary(cache));
      const go = await fakeGo(scratch);
      process.env.PATH = go.dir;

      assert.equal(await locateTemporalCli({ log: () => {} }), cached);
      assert.deepEqual(await go.invocations(), []);
    });

    for (const [title, xdg] of [
      ['unset', undefined],
      ['relative (which the XDG spec says to ignore)', 'relative/cache'],
    ] as const) {
      it(`with XDG_CACHE_HOME ${title}, the cache is ~/.cache`, async () => {
        if (xdg === undefined) delete process.env.XDG_CACHE_HOME;
        else process.env.XDG_CACHE_HOME = xdg;
        const cached = await executable(cachedBinary(join(home, '.cache')));

        assert.equal(await locateTemporalCli({ log: () => {} }), cached);
      });
    }
  });

  describe('building with go install', () => {
    it('without go on PATH, it rejects with one sentence saying to install Go, and leaves the cache empty', async () => {
      await assert.rejects(locateTemporalCli({ log: () => {} }), (error: Error) => {
        assert.doesNotMatch(error.message, /\n/);
        assert.match(error.message, /\.$/);
        assert.equal(error.message.match(/[.!?](\s|$)/g)?.length, 1, `not one sentence: ${error.message}`);
        assert.match(error.message, /\binstall Go\b/);
        return true;
      });
      assert.deepEqual(await readdir(dirname(cachedBinary(cache))), []);
    });

    it('go install of the CLI package @v1.5.1 lands the binary in the version-keyed cache, reporting progress while it builds', async () => {
      const go = await fakeGo(scratch, { holdSeconds: 0.5 });
      process.env.PATH = go.dir;
      const lines: string[] = [];

      const path = await locateTemporalCli({ log: (line) => lines.push(line), progressIntervalMs: 20 });

      assert.equal(path, cachedBinary(cache));
      await assertIntactCache(cache);
      const invocations = await go.invocations();
      assert.equal(invocations.length, 1);
      assert.match(invocations[0]?.args ?? '', new RegExp(`^install (-v )?${PACKAGE.replace(/\./g, '\\.')}$`));
      assert.match(lines[0] ?? '', /building Temporal CLI v1\.5\.1 with go install/);
      const summary = lines.findIndex((line) => /2 modules downloaded, 3 packages compiled/.test(line));
      assert.ok(summary > 0, `no progress summary in ${JSON.stringify(lines)}`);
      assert.equal(lines.at(-1), `built Temporal CLI v1.5.1: ${path}`);
      // A later call finds the cache instead of building again.
      assert.equal(await locateTemporalCli({ log: () => {} }), path);
      assert.equal((await go.invocations()).length, 1);
    });

    it('a failing go install rejects with its exit code and last output, and leaves nothing in the cache', async () => {
      const go = await fakeGo(scratch, { failWithCode: 2 });
      process.env.PATH = go.dir;

      await assert.rejects(locateTemporalCli({ log: () => {} }), (error: Error) => {
        assert.match(error.message, new RegExp(`go install ${PACKAGE.replace(/\./g, '\\.')} exited with code 2`));
        assert.match(error.message, /something broke/);
        return true;
      });
      assert.deepEqual(await readdir(dirname(cachedBinary(cache))), []);
    });

    it('a build removes build folders abandoned hours ago but not a fresh one that another build may be using', async () => {
      const dir = dirname(cachedBinary(cache));
      await mkdir(join(dir, '.build-abandoned'), { recursive: true });
      await mkdir(join(dir, '.build-live'));
      const hoursAgo = new Date(Date.now() - 7 * 60 * 60_000);
      await utimes(join(dir, '.build-abandoned'), hoursAgo, hoursAgo);
      process.env.PATH = (await fakeGo(scratch)).dir;

      await locateTemporalCli({ log: () => {} });

      assert.deepEqual((await readdir(dir)).sort(), ['.build-live', 'temporal']);
    });

    it('two concurrent calls both build, both get the cached path, and leave one intact binary', async () => {
      const go = await fakeGo(scratch, { barrier: 2 });
      process.env.PATH = go.dir;

      const paths = await Promise.all([locateTemporalCli({ log: () => {} }), locateTemporalCli({ log: () => {} })]);

      assert.deepEqual(paths, [cachedBinary(cache), cachedBinary(cache)]);
      assert.equal((await go.invocations()).length, 2, 'the builds did not overlap');
      await assertIntactCache(cache);
    });

    it('two processes running temporal-cli/main.js at once both print the cached path and leave one intact binary', async () => {
      const go = await fakeGo(scratch, { barrier: 2 });
      const env = { PATH: go.dir, HOME: home, XDG_CACHE_HOME: cache };

      const results = await Promise.all([run(process.execPath, [MAIN], env), run(process.execPath, [MAIN], env)]);

      for (const { code, stdout, stderr } of results) {
        assert.equal(code, 0, stderr);
        assert.equal(stdout, `${cachedBinary(cache)}\n`);
        assert.match(stderr, /building Temporal CLI v1\.5\.1 with go install/);
      }
      assert.equal((await go.invocations()).length, 2, 'the builds did not overlap');
      await assertIntactCache(cache);
    });
  });
});
