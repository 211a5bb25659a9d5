// Where things are, from the compiled file's location (dist/fuzz/ → the repository root).
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root (the folder holding package.json). */
export const REPO_ROOT: string = fileURLToPath(new URL('../../', import.meta.url));

/** Committed seeds and regression cases. */
export const FIXTURES: string = join(REPO_ROOT, 'test', 'fixtures', 'fuzz');

/** The public MRT files (outside the repository, see its README.md). */
export const SHARED_DATA: string = join(REPO_ROOT, '..', 'shared', 'data');
