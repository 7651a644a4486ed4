import { describeCrashSuite } from './support/crash-suite.ts';

describeCrashSuite('promote');
