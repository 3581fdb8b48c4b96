/**
 * An Azure VM's model as bp PUTs it, and what bp reads back of one. Pure: the same inputs give
 * the same body, which is what makes a re-PUT of a Failed VM acceptable to ARM.
 */
import type { Settings } from './config.js';
import { vmSizeFor } from './config.js';
import { customData } from './custom-data.js';
import type { RevisionTarget } from './revision.js';
import type { AzureClients } from './sdk.js';

/** Power state of a VM from its instance view (`PowerState/running` → `running`). */
export function powerOf(view: { statuses?: Array<{ code?: string }> } | undefined): string {
  return view?.statuses?.find((s) => s.code?.startsWith('PowerState/'))?.code?.slice('PowerState/'.length) ?? 'unknown';
}

/** What a VM GET shows of its osProfile (customData is never returned). */
export interface ExistingOsProfile {
  adminUsername?: string;
  linuxConfiguration?: { ssh?: { publicKeys?: Array<{ keyData?: string }> } };
}

export interface VmModelInput {
  target: RevisionTarget;
  /** The replica's index. */
  index: number;
  tags: Record<string, string>;
  /** The VM as it exists, when it does (a Failed VM being re-PUT). */
  existing?: ExistingOsProfile;
  /** The SSH key for a new VM (configured, or generated once per deployer). */
  sshKey: string;
  nicId: string;
}

/**
 * The VM's model. osProfile is fixed once a VM exists (a changed one is refused with 409
 * PropertyChangeNotAllowed), so re-PUTting a Failed VM reuses the admin user and SSH key it
 * was created with: the generated throwaway key is generated once and recorded in the VM.
 */
export function vmModel(s: Settings, m: VmModelInput) {
  const t = m.target;
  const [publisher, offer, sku, version] = s.image.split(':');
  const recordedKey = m.existing?.linuxConfiguration?.ssh?.publicKeys?.[0]?.keyData;
  const key = recordedKey ?? m.sshKey;
  const user = m.existing?.adminUsername ?? s.admin_username;
  return {
    location: s.location,
    tags: m.tags,
    // The VM's own identity: boot.sh fetches Key Vault secrets and logs in to ACR with it.
    ...(s.managed_identity
      ? { identity: { type: 'UserAssigned', userAssignedIdentities: { [s.managed_identity]: {} } } }
      : {}),
    hardwareProfile: { vmSize: vmSizeFor(t.revision.resources, s.vm_size) },
    storageProfile: {
      imageReference: { publisher, offer, sku, version },
      osDisk: {
        createOption: 'FromImage',
        deleteOption: 'Delete',
        managedDisk: { storageAccountType: 'StandardSSD_LRS' },
      },
    },
    osProfile: {
      computerName: t.names.vm(m.index).slice(0, 64),
      adminUsername: user,
      customData: customData(t.revision, s),
      linuxConfiguration: {
        disablePasswordAuthentication: true,
        ssh: { publicKeys: [{ path: `/home/${user}/.ssh/authorized_keys`, keyData: key }] },
      },
    },
    networkProfile: {
      networkInterfaces: [{ id: m.nicId, primary: true, deleteOption: 'Delete' }],
    },
  } as Parameters<AzureClients['compute']['virtualMachines']['createOrUpdate']>[2];
}
