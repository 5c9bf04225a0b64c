// What every page needs to know: who is signed in and which tenant they are looking at.

import { createContext, useContext } from 'react';
import type { Role, WhoAmI } from './api';

export interface Console {
  who: WhoAmI;
  role: Role;
  /** The tenant's slug (admins choose one; other keys have theirs). */
  tenant: string;
}

export const ConsoleContext = createContext<Console | null>(null);

export function useConsole(): Console {
  const c = useContext(ConsoleContext);
  if (!c) throw new Error('useConsole outside the signed-in console');
  return c;
}
