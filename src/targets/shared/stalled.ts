import { TargetError } from "../../errors.ts";
import { formatElapsed } from "../../runtime/duration.ts";

/** One wording for a store that stopped taking data, whoever notices it (guard-puts, a target). */
export function storeStalled(display: string, key: string, ms: number): TargetError {
  return new TargetError(`${display}: the store took no data for ${formatElapsed(ms)} while storing ${key} (--stall-timeout)`, {
    hint: "is the storage server or mount still answering? raise --stall-timeout for a very slow store",
  });
}
