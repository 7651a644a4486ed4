import { describeCrashSuite } from './support/crash-suite.ts';

describeCrashSuite('retag-source');
