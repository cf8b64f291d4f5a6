import { expect } from 'chai';
import { runSafetensorsFuzz } from './fixtures/safetensors-fuzz';

// Quick pass by default; NATIVE_RNN_FUZZ_ITERATIONS raises it for a long run.
const ITERATIONS = Number(process.env.NATIVE_RNN_FUZZ_ITERATIONS ?? 12000);

describe('61 io: safetensors mutation fuzz', () => {
  it(`${ITERATIONS} mutated checkpoints: each decodes consistently or throws CheckpointError`, function () {
    this.timeout(Math.max(20000, ITERATIONS * 2));
    const { stats, failures } = runSafetensorsFuzz(ITERATIONS, 20240611);
    const codes = Object.entries(stats.byCode).sort().map(([c, n]) => `${c} ${n}`).join(', ');
    console.log(`      mutated ${stats.mutated}: accepted ${stats.accepted}, rejected ${stats.rejected} (${codes})`);
    const report = failures.slice(0, 5).map((f) => `#${f.iteration} ${f.mutator}: ${String(f.error)}\n  ${f.file.subarray(0, 200).toString('latin1')}`);
    expect(failures, report.join('\n')).to.have.length(0);
    expect(stats.mutated).to.be.at.least(10000);
    // The mutations must actually reach the validation classes, not only one of them.
    for (const code of ['TRUNCATED', 'HEADER_TOO_LARGE', 'BAD_JSON', 'BAD_DTYPE', 'BAD_SHAPE', 'BAD_OFFSETS', 'SIZE_MISMATCH', 'DUPLICATE_NAME', 'BAD_METADATA', 'BAD_HEADER', 'BAD_UTF8', 'OVERLAP', 'HOLE', 'TRAILING_DATA']) {
      expect(stats.byCode[code] ?? 0, `no mutation produced ${code}`).to.be.greaterThan(0);
    }
    expect(stats.accepted).to.be.greaterThan(0);
  });
});
